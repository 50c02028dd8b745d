/** The public API as the console uses it: every call carries the signed-in key; problems become ApiErrors. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
  }
}

export interface Principal {
  kind: 'secretariat' | 'member-state' | 'cso' | 'standing-committee' | 'auditor';
  id: string;
  name?: string;
}

export interface Consultation {
  id: string;
  reference: string;
  title: string;
  status: 'open' | 'closed';
  deadline: string;
  openedAt: string;
  closedAt: string | null;
  addressees: string[];
  /** As the API gives it: commented, no-comments (a nil return) or pending (and whatever else it may add). */
  responses: Record<string, string>;
  commentCount: number;
  deadlineExtensions: number;
  documents: { language: string; title: string }[];
  procedure?: 'comments' | 'silence';
  /** Under silence procedure: the breaks that count and, once closed, the outcome in force. */
  silence?: { brokenBy: { memberState: string; reason: string; receivedAt: string }[]; outcome: 'deemed-adopted' | 'silence-broken' | null };
}

export interface Comment {
  commentId: string;
  trackingNumber: string;
  memberState: string;
  body: string;
  language: string;
  receivedAt: string;
  revision: number;
  status: 'active' | 'withdrawn';
  revisions: { revision: number; body: string; language: string; receivedAt: string }[];
}

export interface HistoryEvent {
  type: string;
  sequence: number;
  occurredAt: string;
  data: Record<string, unknown>;
}

export interface Statement {
  statementId: string;
  trackingNumber: string;
  csoId: string;
  subject: string;
  body: string;
  language: string;
  receivedAt: string;
  status: string;
  history: { status: string; at: string }[];
}

export class Api {
  constructor(readonly key: string) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    if (!response.ok) {
      const problem = (await response.json().catch(() => ({}))) as { code?: string; detail?: string; title?: string };
      throw new ApiError(response.status, problem.code ?? 'error', problem.detail ?? problem.title ?? response.statusText);
    }
    return (await response.json()) as T;
  }

  /** A file from the API (reports), saved through a temporary link since the request needs the key header. */
  async download(path: string, filename: string): Promise<void> {
    const response = await fetch(path, { headers: { authorization: `Bearer ${this.key}` } });
    if (!response.ok) throw new ApiError(response.status, 'error', response.statusText);
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  me = (): Promise<Principal> => this.request('GET', '/v1/me');
  consultations = (status?: 'open' | 'closed'): Promise<{ items: Consultation[] }> =>
    this.request('GET', `/v1/consultations?limit=200${status ? `&status=${status}` : ''}`);
  consultation = (id: string): Promise<Consultation> => this.request('GET', `/v1/consultations/${id}`);
  comments = (id: string): Promise<{ items: Comment[] }> => this.request('GET', `/v1/consultations/${id}/comments?limit=200`);
  async history(id: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let after: string | null = '0';
    while (after !== null) {
      const page: { items: HistoryEvent[]; next: string | null } = await this.request('GET', `/v1/consultations/${id}/history?after=${after}&limit=1000`);
      events.push(...page.items);
      after = page.next;
    }
    return events;
  }
  csoNames = async (): Promise<Record<string, string>> =>
    Object.fromEntries((await this.request<{ items: { id: string; name: string }[] }>('GET', '/v1/csos?limit=200')).items.map((c) => [c.id, c.name]));
  reviewQueue = (): Promise<{ items: Statement[] }> => this.request('GET', '/v1/cso-statements?queue=review&limit=100');
  moveStatement = (id: string, step: 'review' | 'forwarding' | 'return', body: object = {}): Promise<Statement> =>
    this.request('POST', `/v1/cso-statements/${id}/${step}`, body);
}
