import type {
  CsoCommand,
  CsoCommandOf,
  CsoContact,
  CsoEventOf,
  CsoEventType,
  StatementStatus,
} from '@consult/contracts';
import { canonicalJson } from '@consult/contracts';

/**
 * Accreditation of a civil-society organisation and its written statements, decided on one stream per CSO
 * (see contracts/statements.ts for why). Pure: no clock (time is the command's `receivedAt`), no IO.
 */

export type CsoErrorCode =
  | 'cso-not-found'
  | 'cso-exists'
  | 'cso-not-accredited'
  | 'cso-revoked'
  | 'accreditation-not-in-future'
  | 'statement-not-found'
  | 'illegal-transition'
  | 'idempotency-key-reused';

export interface CsoError {
  readonly code: CsoErrorCode;
  readonly detail: string;
}

export type CsoStatus = 'accredited' | 'lapsed' | 'revoked';

export interface StatementRecord {
  readonly statementId: string;
  readonly trackingNumber: string;
  readonly idempotencyKey: string;
  readonly bodyHash: string;
  readonly receivedAt: string;
  status: StatementStatus;
  lastChangedAt: string;
}

export interface Cso {
  readonly id: string;
  name: string;
  linkBody: string;
  contact: CsoContact;
  readonly accreditedAt: string;
  /** What the accreditation asked for (canonical JSON): a retry with the same Idempotency-Key must ask the same. */
  readonly accreditedWith: string;
  accreditedUntil: string;
  revoked: boolean;
  revokedAt: string | null;
  readonly keyId: string;
  readonly keyHash: string;
  readonly statements: Map<string, StatementRecord>;
  /** idempotency key → statement id */
  readonly idempotency: Map<string, string>;
  /** Number of statements ever submitted: numbers tracking numbers. */
  submitted: number;
  /** Number of events applied: the stream's sequence of the last one. */
  version: number;
}

export type CsoState = Cso | null;

export type CsoEventDraft = {
  [T in CsoEventType]: { type: T; data: CsoEventOf<T>['data'] };
}[CsoEventType];

export type CsoDecision =
  | { ok: true; events: CsoEventDraft[]; receipt: Record<string, unknown>; replayed: boolean }
  | { ok: false; error: CsoError };

const ms = (iso: string): number => Date.parse(iso);
const refuse = (code: CsoErrorCode, detail: string): CsoDecision => ({ ok: false, error: { code, detail } });
const accept = (events: CsoEventDraft[], receipt: Record<string, unknown>, replayed = false): CsoDecision => ({
  ok: true,
  events,
  receipt,
  replayed,
});

/** Accredited at `at` means: not revoked, and `at` is at or before `accreditedUntil` (the last valid instant). */
export function csoStatusAt(cso: Pick<Cso, 'revoked' | 'accreditedUntil'>, at: string): CsoStatus {
  if (cso.revoked) return 'revoked';
  return ms(at) <= ms(cso.accreditedUntil) ? 'accredited' : 'lapsed';
}

export function csoReceipt(cso: Cso, at: string): Record<string, unknown> {
  return {
    id: cso.id,
    name: cso.name,
    linkBody: cso.linkBody,
    accreditedUntil: cso.accreditedUntil,
    contact: cso.contact,
    status: csoStatusAt(cso, at),
  };
}

export function statementReceipt(cso: Cso, s: StatementRecord): Record<string, unknown> {
  return { statementId: s.statementId, trackingNumber: s.trackingNumber, receivedAt: s.receivedAt, csoId: cso.id, status: 'submitted' };
}

function transitionReceipt(cso: Cso, s: StatementRecord, status: StatementStatus, at: string): Record<string, unknown> {
  return { statementId: s.statementId, trackingNumber: s.trackingNumber, csoId: cso.id, status, changedAt: at };
}

export function decideCso(state: CsoState, command: CsoCommand): CsoDecision {
  switch (command.type) {
    case 'cso.accredit':
      return decideAccredit(state, command);
    case 'cso.renew-accreditation':
      return decideRenew(state, command);
    case 'cso.revoke-accreditation':
      return decideRevoke(state, command);
    case 'cso.submit-statement':
      return decideSubmit(state, command);
    case 'cso.review-statement':
      return decideTransition(state, command.receivedAt, command.data.statementId, 'under-review', () => ({
        type: 'cso.statement-review-started',
        data: { statementId: command.data.statementId, receivedAt: command.receivedAt },
      }));
    case 'cso.forward-statement':
      return decideTransition(state, command.receivedAt, command.data.statementId, 'forwarded', () => ({
        type: 'cso.statement-forwarded',
        data: {
          statementId: command.data.statementId,
          ...(command.data.note !== undefined ? { note: command.data.note } : {}),
          receivedAt: command.receivedAt,
        },
      }));
    case 'cso.return-statement':
      return decideTransition(state, command.receivedAt, command.data.statementId, 'returned', () => ({
        type: 'cso.statement-returned',
        data: { statementId: command.data.statementId, reasons: command.data.reasons, receivedAt: command.receivedAt },
      }));
    case 'cso.acknowledge-statement':
      return decideTransition(state, command.receivedAt, command.data.statementId, 'acknowledged', () => ({
        type: 'cso.statement-acknowledged',
        data: { statementId: command.data.statementId, receivedAt: command.receivedAt },
      }));
  }
}

/** The accreditation request in one comparable form, from the command or from the event it became. */
function accreditationRequest(d: { name: string; linkBody: string; contact: CsoContact; accreditedUntil: string }): string {
  return canonicalJson({ name: d.name, linkBody: d.linkBody, contact: d.contact, accreditedUntil: d.accreditedUntil });
}

function decideAccredit(state: CsoState, cmd: CsoCommandOf<'cso.accredit'>): CsoDecision {
  const d = cmd.data;
  if (state) {
    // A retried accreditation (same Idempotency-Key → same id, same request) gets the CSO without a new key;
    // the same key with another request is a conflict, as for comments.
    if (state.accreditedWith === accreditationRequest(d)) return accept([], csoReceipt(state, cmd.receivedAt), true);
    return refuse('idempotency-key-reused', `organisation ${state.id} was accredited with this Idempotency-Key and another request body`);
  }
  if (ms(d.accreditedUntil) <= ms(cmd.receivedAt))
    return refuse('accreditation-not-in-future', `accreditedUntil ${d.accreditedUntil} is not after ${cmd.receivedAt}`);
  return accept(
    [
      {
        type: 'cso.accredited',
        data: {
          csoId: cmd.key,
          name: d.name,
          linkBody: d.linkBody,
          contact: d.contact,
          accreditedUntil: d.accreditedUntil,
          accreditedAt: cmd.receivedAt,
          keyId: d.keyId,
          keyHash: d.keyHash,
        },
      },
    ],
    { id: cmd.key, name: d.name, linkBody: d.linkBody, accreditedUntil: d.accreditedUntil, contact: d.contact, status: 'accredited' },
  );
}

function decideRenew(state: CsoState, cmd: CsoCommandOf<'cso.renew-accreditation'>): CsoDecision {
  if (!state) return refuse('cso-not-found', 'no such organisation');
  if (state.revoked) return refuse('cso-revoked', `the accreditation of ${state.id} was revoked at ${state.revokedAt ?? ''}`);
  const until = cmd.data.accreditedUntil;
  // A retried renewal to the same date is answered as before.
  if (ms(until) === ms(state.accreditedUntil)) return accept([], csoReceipt(state, cmd.receivedAt), true);
  if (ms(until) <= ms(cmd.receivedAt))
    return refuse('accreditation-not-in-future', `accreditedUntil ${until} is not after ${cmd.receivedAt}`);
  return accept(
    [
      {
        type: 'cso.accreditation-renewed',
        data: { previousAccreditedUntil: state.accreditedUntil, accreditedUntil: until, receivedAt: cmd.receivedAt },
      },
    ],
    { ...csoReceipt(state, cmd.receivedAt), accreditedUntil: until, status: 'accredited' },
  );
}

function decideRevoke(state: CsoState, cmd: CsoCommandOf<'cso.revoke-accreditation'>): CsoDecision {
  if (!state) return refuse('cso-not-found', 'no such organisation');
  if (state.revoked) return accept([], { ...csoReceipt(state, cmd.receivedAt), revokedAt: state.revokedAt }, true);
  return accept(
    [
      {
        type: 'cso.accreditation-revoked',
        data: { reason: cmd.data.reason, revokedAt: cmd.receivedAt, keyId: state.keyId },
      },
    ],
    { ...csoReceipt(state, cmd.receivedAt), status: 'revoked', revokedAt: cmd.receivedAt },
  );
}

function decideSubmit(state: CsoState, cmd: CsoCommandOf<'cso.submit-statement'>): CsoDecision {
  const d = cmd.data;
  if (!state) return refuse('cso-not-accredited', `organisation ${cmd.key} is not accredited`);
  // Idempotency first: a retry of an accepted statement gets its receipt even after the accreditation ended.
  const existingId = state.idempotency.get(d.idempotencyKey);
  if (existingId !== undefined) {
    const existing = state.statements.get(existingId);
    if (existing && existing.bodyHash === d.bodyHash) return accept([], statementReceipt(state, existing), true);
    return refuse('idempotency-key-reused', `Idempotency-Key ${d.idempotencyKey} was used for another statement`);
  }
  const status = csoStatusAt(state, cmd.receivedAt);
  if (status === 'revoked')
    return refuse('cso-not-accredited', `the accreditation of ${state.name} was revoked at ${state.revokedAt ?? ''}`);
  if (status === 'lapsed')
    return refuse(
      'cso-not-accredited',
      `the accreditation of ${state.name} lapsed at ${state.accreditedUntil} (received at ${new Date(ms(cmd.receivedAt)).toISOString()})`,
    );
  if (state.statements.has(d.statementId)) return refuse('idempotency-key-reused', `statement ${d.statementId} exists`);
  const trackingNumber = `CSO/${state.id.slice(0, 8).toUpperCase()}/${state.submitted + 1}`;
  const data: CsoEventOf<'cso.statement-submitted'>['data'] = {
    statementId: d.statementId,
    trackingNumber,
    subject: d.subject,
    body: d.body,
    language: d.language,
    bodyHash: d.bodyHash,
    idempotencyKey: d.idempotencyKey,
    receivedAt: cmd.receivedAt,
  };
  if (d.relatesTo !== undefined) data.relatesTo = d.relatesTo;
  return accept([{ type: 'cso.statement-submitted', data }], {
    statementId: d.statementId,
    trackingNumber,
    receivedAt: cmd.receivedAt,
    csoId: state.id,
    status: 'submitted',
  });
}

/** Which state each transition leads from. Anything else is an illegal transition. */
export const STATEMENT_TRANSITIONS: Readonly<Record<Exclude<StatementStatus, 'submitted'>, readonly StatementStatus[]>> = {
  'under-review': ['submitted'],
  forwarded: ['under-review'],
  returned: ['under-review'],
  acknowledged: ['forwarded'],
};

function decideTransition(
  state: CsoState,
  receivedAt: string,
  statementId: string,
  to: Exclude<StatementStatus, 'submitted'>,
  event: () => CsoEventDraft,
): CsoDecision {
  const statement = state?.statements.get(statementId);
  if (!state || !statement) return refuse('statement-not-found', `no statement ${statementId}`);
  // Retrying a transition that already happened answers like the first time, without a second event.
  if (statement.status === to) return accept([], transitionReceipt(state, statement, to, statement.lastChangedAt), true);
  if (!STATEMENT_TRANSITIONS[to].includes(statement.status))
    return refuse(
      'illegal-transition',
      `statement ${statement.trackingNumber} is ${statement.status}: it cannot become ${to}`,
    );
  return accept([event()], transitionReceipt(state, statement, to, receivedAt));
}

export type AppliedCsoEvent = CsoEventDraft & { sequence?: number };

/** Applies one event; like the consultation evolve it may update `state` in place: use the returned state. */
export function evolveCso(state: CsoState, event: AppliedCsoEvent): CsoState {
  if (event.type === 'cso.accredited') {
    const d = event.data;
    return {
      id: d.csoId,
      name: d.name,
      linkBody: d.linkBody,
      contact: d.contact,
      accreditedAt: d.accreditedAt,
      accreditedWith: accreditationRequest(d),
      accreditedUntil: d.accreditedUntil,
      revoked: false,
      revokedAt: null,
      keyId: d.keyId,
      keyHash: d.keyHash,
      statements: new Map(),
      idempotency: new Map(),
      submitted: 0,
      version: event.sequence ?? 1,
    };
  }
  if (!state) return state;
  state.version = event.sequence ?? state.version + 1;
  const move = (statementId: string, status: StatementStatus, at: string): CsoState => {
    const s = state.statements.get(statementId);
    if (s) {
      s.status = status;
      s.lastChangedAt = at;
    }
    return state;
  };
  switch (event.type) {
    case 'cso.accreditation-renewed':
      state.accreditedUntil = event.data.accreditedUntil;
      return state;
    case 'cso.accreditation-revoked':
      state.revoked = true;
      state.revokedAt = event.data.revokedAt;
      return state;
    case 'cso.statement-submitted': {
      const d = event.data;
      state.statements.set(d.statementId, {
        statementId: d.statementId,
        trackingNumber: d.trackingNumber,
        idempotencyKey: d.idempotencyKey,
        bodyHash: d.bodyHash,
        receivedAt: d.receivedAt,
        status: 'submitted',
        lastChangedAt: d.receivedAt,
      });
      state.idempotency.set(d.idempotencyKey, d.statementId);
      state.submitted += 1;
      return state;
    }
    case 'cso.statement-review-started':
      return move(event.data.statementId, 'under-review', event.data.receivedAt);
    case 'cso.statement-forwarded':
      return move(event.data.statementId, 'forwarded', event.data.receivedAt);
    case 'cso.statement-returned':
      return move(event.data.statementId, 'returned', event.data.receivedAt);
    case 'cso.statement-acknowledged':
      return move(event.data.statementId, 'acknowledged', event.data.receivedAt);
  }
}
