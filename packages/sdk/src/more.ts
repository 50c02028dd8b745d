import type { Attachment } from './attachments.js';
import type { ApiResponse, ConsultationClient } from './client.js';

/** Shapes of the CSO, statement, subscription and history endpoints, as the API returns them. */

export interface CsoContact {
  name: string;
  email: string;
  phone?: string;
}

export interface Cso {
  id: string;
  name: string;
  linkBody: string;
  accreditedUntil: string;
  contact: CsoContact;
  status: 'accredited' | 'lapsed' | 'revoked';
  accreditedAt?: string;
  revokedAt?: string;
  revocationReason?: string;
  /** Only in the answer to an accreditation: the organisation's API key, shown once. */
  apiKey?: string;
}

export type StatementStatus =
  | 'awaiting-co-signatures'
  | 'co-signing-declined'
  | 'submitted'
  | 'under-review'
  | 'forwarded'
  | 'returned'
  | 'acknowledged';

/** A named co-signer: who signed when (or declined, and why); `blocked` when its accreditation ended first. */
export interface CoSigner {
  csoId: string;
  status: 'pending' | 'confirmed' | 'declined';
  at?: string;
  reason?: string;
  blocked?: string;
}

export interface Statement {
  statementId: string;
  trackingNumber: string;
  csoId: string;
  subject: string;
  body: string;
  language: string;
  relatesTo?: string;
  receivedAt: string;
  status: StatementStatus;
  lastChangedAt: string;
  history: { status: StatementStatus; at: string; actor: { kind: string; id: string }; note?: string; reasons?: string }[];
  coSigners?: CoSigner[];
  attachments?: Attachment[];
  /** Only in an `asOf` answer: the moment it shows. */
  asOf?: string;
}

/** One event of a hash-chained history, as produced. */
export interface ChainedEvent {
  id: string;
  type: string;
  key: string;
  occurredAt: string;
  sequence: number;
  previousHash: string | null;
  hash: string;
  data: Record<string, unknown>;
  [field: string]: unknown;
}

/**
 * An item of a statement's history that a co-signer may not read (the lead organisation's other events): only
 * its place in the chain. `isWithheld` tells them apart; such an item has no `id`, `type` or `data`.
 */
export interface WithheldEvent {
  key: string;
  sequence: number;
  previousHash: string | null;
  hash: string;
  redacted: true;
}

export function isWithheld(event: ChainedEvent | WithheldEvent): event is WithheldEvent {
  return (event as { redacted?: unknown }).redacted === true && !('data' in event);
}

export interface Subscription {
  id: string;
  url: string;
  events: string[];
  createdAt: string;
}

export interface Delivery {
  deliveryId: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  status: 'pending' | 'delivered' | 'dead-lettered';
  attempts: { round: number; attempt: number; at: string; durationMs: number; statusCode?: number; error?: string; outcome: string }[];
}

export interface Paged<T> {
  items: T[];
  total?: number;
  next?: string | null;
}

type Query = Record<string, string | number | undefined>;
const qs = (query: Query): string => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  return params.size ? `?${params.toString()}` : '';
};

/** CSO accreditation (secretariat) and statements through the Secretariat to the Standing Committee. */
export class CsoApi {
  constructor(private readonly client: ConsultationClient) {}

  accredit(input: { name: string; linkBody: string; accreditedUntil: string; contact: CsoContact }, idempotencyKey?: string): Promise<ApiResponse<Cso>> {
    return this.client.request('POST', '/v1/csos', input, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
  }
  renew(csoId: string, accreditedUntil: string): Promise<ApiResponse<Cso>> {
    return this.client.request('POST', `/v1/csos/${csoId}/renewal`, { accreditedUntil });
  }
  revoke(csoId: string, reason: string): Promise<ApiResponse<Cso>> {
    return this.client.request('POST', `/v1/csos/${csoId}/revocation`, { reason });
  }
  get(csoId: string): Promise<ApiResponse<Cso>> {
    return this.client.request('GET', `/v1/csos/${csoId}`);
  }
  list(query: { limit?: number; offset?: number } = {}): Promise<ApiResponse<Paged<Cso>>> {
    return this.client.request('GET', `/v1/csos${qs(query)}`);
  }
  submitStatement(
    input: {
      subject: string;
      body: string;
      language: string;
      relatesTo?: string;
      /** Accredited organisations that must each confirm (coSign) before the statement enters the review queue. */
      coSigners?: string[];
      attachments?: { digest: string; filename?: string }[];
    },
    idempotencyKey: string,
  ): Promise<ApiResponse<Statement>> {
    return this.client.request('POST', '/v1/cso-statements', input, { 'idempotency-key': idempotencyKey });
  }
  review(statementId: string): Promise<ApiResponse<Statement>> {
    return this.client.request('POST', `/v1/cso-statements/${statementId}/review`, {});
  }
  forward(statementId: string, note?: string): Promise<ApiResponse<Statement>> {
    return this.client.request('POST', `/v1/cso-statements/${statementId}/forwarding`, note ? { note } : {});
  }
  return(statementId: string, reasons: string): Promise<ApiResponse<Statement>> {
    return this.client.request('POST', `/v1/cso-statements/${statementId}/return`, { reasons });
  }
  acknowledge(statementId: string): Promise<ApiResponse<Statement>> {
    return this.client.request('POST', `/v1/cso-statements/${statementId}/acknowledgement`, {});
  }
  statement(statementId: string): Promise<ApiResponse<Statement>> {
    return this.client.request('GET', `/v1/cso-statements/${statementId}`);
  }
  statements(query: { queue?: 'review'; limit?: number; offset?: number } = {}): Promise<ApiResponse<Paged<Statement>>> {
    return this.client.request('GET', `/v1/cso-statements${qs(query)}`);
  }
  /** The statement as it stood at `at` (secretariat, auditors, its organisation, its co-signers). */
  statementAsOf(statementId: string, at: string): Promise<ApiResponse<Statement>> {
    return this.client.request('GET', `/v1/cso-statements/${statementId}${qs({ asOf: at })}`);
  }
  /**
   * Its organisation's hash-chained stream up to the statement's latest event (page with `after`). Read by a
   * co-signer, the events not about this statement are withheld (`isWithheld`): see docs/audit-export.md.
   */
  statementHistory(statementId: string, query: { after?: number; limit?: number } = {}): Promise<ApiResponse<{ items: ChainedEvent[]; next: string | null }>> {
    return this.client.request('GET', `/v1/cso-statements/${statementId}/history${qs(query)}`);
  }
  /** Co-sign a statement that names your organisation (with your organisation's key). */
  coSign(statementId: string): Promise<ApiResponse<Statement>> {
    return this.client.request('POST', `/v1/cso-statements/${statementId}/co-signature`, {});
  }
  /** Decline to co-sign it; the statement goes no further. */
  refuseCoSignature(statementId: string, reason?: string): Promise<ApiResponse<Statement>> {
    return this.client.request('POST', `/v1/cso-statements/${statementId}/co-signature/refusal`, reason ? { reason } : {});
  }
}

/** Webhook subscriptions of the calling principal, and their deliveries. */
export class SubscriptionApi {
  constructor(private readonly client: ConsultationClient) {}

  create(input: { url: string; events: string[]; secret: string }): Promise<ApiResponse<Subscription>> {
    return this.client.request('POST', '/v1/subscriptions', input);
  }
  list(): Promise<ApiResponse<{ items: Subscription[] }>> {
    return this.client.request('GET', '/v1/subscriptions');
  }
  get(id: string): Promise<ApiResponse<Subscription>> {
    return this.client.request('GET', `/v1/subscriptions/${id}`);
  }
  delete(id: string): Promise<ApiResponse<unknown>> {
    return this.client.request('DELETE', `/v1/subscriptions/${id}`);
  }
  deliveries(id: string, query: { status?: Delivery['status']; limit?: number } = {}): Promise<ApiResponse<{ items: Delivery[] }>> {
    return this.client.request('GET', `/v1/subscriptions/${id}/deliveries${qs(query)}`);
  }
  redeliver(id: string, deliveryId: string): Promise<ApiResponse<unknown>> {
    return this.client.request('POST', `/v1/subscriptions/${id}/deliveries/${deliveryId}/redelivery`);
  }
}

/** A consultation's history, for auditors and the Secretariat. */
export function consultationHistory(
  client: ConsultationClient,
  consultationId: string,
  query: { after?: number; limit?: number } = {},
): Promise<ApiResponse<{ items: Record<string, unknown>[]; next: string | null }>> {
  return client.request('GET', `/v1/consultations/${consultationId}/history${qs(query)}`);
}
