/**
 * Domain rejections are values with stable codes; the gateway maps each code to an HTTP status and a problem
 * type. None is retriable: the same command against the same state is rejected the same way.
 */
export type DomainErrorCode =
  | 'consultation-not-found'
  | 'consultation-exists'
  | 'consultation-closed'
  | 'deadline-not-in-future'
  | 'deadline-not-later'
  | 'deadline-not-reached'
  | 'not-an-addressee'
  | 'unknown-member-state'
  | 'idempotency-key-reused'
  | 'comment-not-found'
  | 'not-comment-owner'
  | 'comment-withdrawn'
  | 'reminder-stale'
  | 'reminder-not-due'
  | 'already-commented'
  | 'not-under-silence-procedure'
  | 'invalid-documents'
  | 'reset-needs-revision';

export interface DomainError {
  readonly code: DomainErrorCode;
  readonly detail: string;
}

export function rejection(code: DomainErrorCode, detail: string): { ok: false; error: DomainError } {
  return { ok: false, error: { code, detail } };
}
