import { AttachmentApi } from './attachments.js';
import { consultationHistory, CsoApi, SubscriptionApi } from './more.js';

/**
 * A small typed client for the consultation API, for member-state integrators, the demo and our own tests.
 * It never throws for HTTP statuses: every call returns the status, the parsed body and the headers, so
 * callers handle problems (RFC 9457) as values.
 */

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  errors?: { path: string; message: string }[];
}

export interface ApiResponse<T> {
  status: number;
  ok: boolean;
  body: T;
  problem: Problem | undefined;
  headers: Headers;
}

export interface ConsultationDocumentInput {
  language: string;
  title: string;
  uri?: string;
  text?: string;
  /** The language the text was negotiated in (exactly one per version; absent everywhere: the first). */
  original?: boolean;
}

export interface CreateConsultationInput {
  reference: string;
  title: string;
  summary?: string;
  documents: ConsultationDocumentInput[];
  addressees: string[];
  /** RFC 3339, or a date (2023-03-20): the end of that day in the Secretariat's zone. */
  deadline: string;
  reminderOffsetsSeconds?: number[];
  commentVisibility?: 'own' | 'addressees';
  procedure?: 'comments' | 'silence';
}

export interface LocalDeadline {
  timeZone: string;
  local: string;
  text: string;
}

export interface DocumentVersionInput {
  kind: 'corrigendum' | 'revision';
  documents: ConsultationDocumentInput[];
  note?: string;
  /** A revision may reset the deadline (a later one) … */
  deadline?: string;
  /** … or, under silence procedure, the silence. */
  resetSilence?: boolean;
}

export interface DocumentVersionReceipt {
  consultationId: string;
  version: number;
  kind: 'corrigendum' | 'revision';
  number: number;
  symbol: string;
  issuedAt: string;
  resetsDeadline: boolean;
  resetsSilence: boolean;
  deadline: string;
}

export interface Consultation {
  id: string;
  reference: string;
  title: string;
  summary?: string;
  documents: ConsultationDocumentInput[];
  status: 'open' | 'closed';
  deadline: string;
  openedAt: string;
  closedAt: string | null;
  addressees: string[];
  responses: Record<string, 'commented' | 'no-comments' | 'pending'>;
  commentCount: number;
  noCommentsCount?: number;
  commentVisibility: 'own' | 'addressees';
  reminderOffsetsSeconds: number[];
  deadlineExtensions: number;
  version: number;
  procedure?: 'comments' | 'silence';
  silence?: {
    brokenBy: { memberState: string; reason: string; receivedAt: string }[];
    outcome: 'deemed-adopted' | 'silence-broken' | null;
  };
  documentVersion?: { version: number; kind: string; number: number; symbol: string; issuedAt: string };
  localDeadlines?: Record<string, LocalDeadline>;
  language?: string;
  document?: ConsultationDocumentInput;
}

export interface CommentReceipt {
  commentId: string;
  trackingNumber: string;
  receivedAt: string;
  memberState: string;
  consultationId: string;
  revision?: number;
  withdrawnAt?: string;
  status?: string;
}

export interface Comment {
  commentId: string;
  consultationId: string;
  trackingNumber: string;
  memberState: string;
  body: string;
  language: string;
  receivedAt: string;
  revision: number;
  status: 'active' | 'withdrawn';
  lastChangedAt: string;
  withdrawnAt?: string;
  revisions: { revision: number; body: string; language: string; receivedAt: string }[];
}

export interface Pending {
  status: 'pending';
  commandId: string;
  statusUrl: string;
}

export interface ClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Sent as X-Correlation-Id so a request can be followed through the events. */
  correlationId?: string;
}

function toSearchParams(query: Record<string, string | number | undefined>): URLSearchParams {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  return params;
}

export class ConsultationClient {
  constructor(private readonly options: ClientOptions) {}

  /** CSO accreditation and statements. */
  get csos(): CsoApi {
    return new CsoApi(this);
  }

  /** Webhook subscriptions and their deliveries. */
  get subscriptions(): SubscriptionApi {
    return new SubscriptionApi(this);
  }

  /** File uploads and downloads. */
  get attachments(): AttachmentApi {
    return new AttachmentApi(this);
  }

  /** A raw authenticated request (for bodies that are not JSON, such as file uploads). */
  fetch(path: string, init: RequestInit & { duplex?: 'half' }): Promise<Response> {
    return fetch(new URL(path, this.options.baseUrl), {
      ...init,
      headers: {
        authorization: `Bearer ${this.options.apiKey}`,
        ...(this.options.correlationId ? { 'x-correlation-id': this.options.correlationId } : {}),
        ...(init.headers as Record<string, string> | undefined),
      },
    });
  }

  /** Reads a JSON (or problem) answer the way `request` does. */
  async parse<T>(response: Response): Promise<ApiResponse<T>> {
    const text = await response.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    const isProblem = (response.headers.get('content-type') ?? '').startsWith('application/problem+json');
    return { status: response.status, ok: response.ok, body: parsed as T, problem: isProblem ? (parsed as Problem) : undefined, headers: response.headers };
  }

  history(consultationId: string, query: { after?: number; limit?: number } = {}) {
    return consultationHistory(this, consultationId, query);
  }

  withKey(apiKey: string): ConsultationClient {
    return new ConsultationClient({ ...this.options, apiKey });
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const response = await fetch(new URL(path, this.options.baseUrl), {
      method,
      headers: {
        authorization: `Bearer ${this.options.apiKey}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.options.correlationId ? { 'x-correlation-id': this.options.correlationId } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    const isProblem = (response.headers.get('content-type') ?? '').startsWith('application/problem+json');
    return {
      status: response.status,
      ok: response.ok,
      body: parsed as T,
      problem: isProblem ? (parsed as Problem) : undefined,
      headers: response.headers,
    };
  }

  createConsultation(input: CreateConsultationInput, idempotencyKey?: string): Promise<ApiResponse<Consultation>> {
    return this.request('POST', '/v1/consultations', input, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
  }

  /**
   * A consultation, or (with `asOf`, a string as before or in the options) its state at that moment. With
   * `acceptLanguage` (an Accept-Language value: `ru`, `ru, en;q=0.8`) titles and documents come in that language,
   * falling back to the original; `body.language` and the `Content-Language` header say which was chosen.
   */
  getConsultation(id: string, options?: string | { asOf?: string; acceptLanguage?: string }): Promise<ApiResponse<Consultation>> {
    const { asOf, acceptLanguage } = typeof options === 'string' ? { asOf: options, acceptLanguage: undefined } : (options ?? {});
    return this.request(
      'GET',
      `/v1/consultations/${id}${asOf ? `?asOf=${encodeURIComponent(asOf)}` : ''}`,
      undefined,
      acceptLanguage ? { 'accept-language': acceptLanguage } : {},
    );
  }

  listConsultations(
    query: { status?: 'open' | 'closed'; limit?: number; offset?: number } = {},
  ): Promise<ApiResponse<{ items: Consultation[]; total: number; offset: number; limit: number }>> {
    const params = toSearchParams(query);
    return this.request('GET', `/v1/consultations${params.size ? `?${params.toString()}` : ''}`);
  }

  /** Answers "no comments" (a nil return) for the key's member state; idempotent. */
  postNoComments(consultationId: string): Promise<ApiResponse<{ consultationId: string; memberState: string; status: 'no-comments'; receivedAt: string }>> {
    return this.request('POST', `/v1/consultations/${consultationId}/no-comments`);
  }

  /** Breaks silence under silence procedure, with a reason; idempotent. */
  breakSilence(consultationId: string, reason: string): Promise<ApiResponse<{ memberState: string; reason: string; receivedAt: string }>> {
    return this.request('POST', `/v1/consultations/${consultationId}/silence-breaks`, { reason });
  }

  /** Issues a corrigendum or a revision (secretariat); with an idempotency key a retry gets the same version. */
  issueDocumentVersion(consultationId: string, input: DocumentVersionInput, idempotencyKey?: string): Promise<ApiResponse<DocumentVersionReceipt>> {
    return this.request(
      'POST',
      `/v1/consultations/${consultationId}/document-versions`,
      input,
      idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
    );
  }

  postComment(
    consultationId: string,
    comment: { body: string; language: string; attachments?: { digest: string; filename?: string }[] },
    idempotencyKey: string,
  ): Promise<ApiResponse<CommentReceipt>> {
    return this.request('POST', `/v1/consultations/${consultationId}/comments`, comment, {
      'idempotency-key': idempotencyKey,
    });
  }

  amendComment(
    consultationId: string,
    commentId: string,
    comment: { body: string; language: string },
  ): Promise<ApiResponse<CommentReceipt>> {
    return this.request('PUT', `/v1/consultations/${consultationId}/comments/${commentId}`, comment);
  }

  withdrawComment(consultationId: string, commentId: string): Promise<ApiResponse<CommentReceipt>> {
    return this.request('DELETE', `/v1/consultations/${consultationId}/comments/${commentId}`);
  }

  listComments(
    consultationId: string,
    query: { memberState?: string; limit?: number; after?: string } = {},
  ): Promise<ApiResponse<{ items: Comment[]; next: string | null }>> {
    const params = toSearchParams(query);
    return this.request('GET', `/v1/consultations/${consultationId}/comments${params.size ? `?${params.toString()}` : ''}`);
  }

  getComment(consultationId: string, commentId: string): Promise<ApiResponse<Comment>> {
    return this.request('GET', `/v1/consultations/${consultationId}/comments/${commentId}`);
  }

  extendDeadline(
    consultationId: string,
    input: { deadline: string; reason: string },
  ): Promise<ApiResponse<{ id: string; previousDeadline: string; deadline: string }>> {
    return this.request('POST', `/v1/consultations/${consultationId}/deadline-extensions`, input);
  }

  /**
   * Follows a 202 to its decision: polls the status URL until the command is accepted or rejected (the
   * command is durably queued, so it will be decided), or until `timeoutMs`.
   */
  async awaitDecision(
    pending: Pending,
    options: { timeoutMs?: number; intervalMs?: number } = {},
  ): Promise<ApiResponse<{ commandId: string; status: string; receipt?: Record<string, unknown> }>> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      const status = await this.commandStatus(pending.commandId);
      if (status.body?.status !== 'pending' || Date.now() > deadline) return status;
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
    }
  }

  commandStatus(commandId: string): Promise<ApiResponse<{ commandId: string; status: string; receipt?: Record<string, unknown> }>> {
    return this.request('GET', `/v1/commands/${commandId}`);
  }
}
