import type {
  CommentVisibility,
  ConsultationCommand,
  ConsultationCommandOf,
  ConsultationDocument,
  ConsultationEventOf,
  ConsultationEventType,
  DocumentVersionKind,
  Procedure,
  SilenceBreak,
} from '@consult/contracts';
import { canonicalJson, isMemberStateCode } from '@consult/contracts';
import { decideBreakSilence, decideIssueDocumentVersion, decideNoComments } from './diplomatic-practice.js';
import { rejection, type DomainError } from './errors.js';
import { documentsProblem, withOriginalMarked } from './languages.js';
import { localDeadlinesOf, zonesFor } from './time-zones.js';

export interface CommentRecord {
  readonly commentId: string;
  readonly memberState: string;
  readonly trackingNumber: string;
  readonly idempotencyKey: string;
  /** Hash of the first submission's body and language: an idempotent retry must carry the same. */
  readonly submittedBodyHash: string;
  readonly submittedAt: string;
  /** Hash of the current revision's body and language: amending to the same text adds no revision. */
  bodyHash: string;
  revision: number;
  language: string;
  withdrawn: boolean;
  lastChangedAt: string;
  /** The document version in force when it was last submitted or amended. */
  documentVersion: number;
}

/** One version of the consultation's documents: the original text (1), then corrigenda and revisions. */
export interface DocumentVersion {
  version: number;
  kind: DocumentVersionKind;
  /** Number within its kind (Corr.1, Rev.2); 0 for the original. */
  number: number;
  /** IO/218, IO/218/Corr.1, IO/218/Rev.1 */
  symbol: string;
  documents: ConsultationDocument[];
  issuedAt: string;
  resetsDeadline: boolean;
  resetsSilence: boolean;
  note?: string;
  idempotencyKey?: string;
}

/** What the closing decision recorded; under silence procedure, the outcome in force (a revision replaces it). */
export interface Closing {
  responded: string[];
  noComments: string[];
  pending: string[];
  silence?: { outcome: 'deemed-adopted' | 'silence-broken'; brokenBy: SilenceBreak[] };
}

export interface Consultation {
  readonly id: string;
  readonly reference: string;
  readonly title: string;
  readonly summary: string | undefined;
  readonly addressees: readonly string[];
  readonly reminderOffsetsSeconds: readonly number[];
  readonly commentVisibility: CommentVisibility;
  readonly openedAt: string;
  /** What the opening asked for (canonical JSON): a retry with the same Idempotency-Key must ask the same. */
  readonly openedWith: string;
  readonly procedure: Procedure;
  /** Each addressee's IANA zone, as recorded at circulation. */
  readonly timeZones: Readonly<Record<string, string>>;
  readonly secretariatTimeZone: string | undefined;
  /** Current version's documents. */
  documents: readonly ConsultationDocument[];
  readonly documentVersions: DocumentVersion[];
  /** Nil returns in force: member state → when received. A comment replaces one. */
  readonly noComments: Map<string, string>;
  /** Breaks of silence counting now (a revision may reset them), first first. */
  silenceBreaks: SilenceBreak[];
  closing: Closing | null;
  deadline: string;
  status: 'open' | 'closed';
  closedAt: string | null;
  deadlineExtensions: number;
  /** The last extension: the same extension again (a retry) is answered with its receipt and adds nothing. */
  lastExtension: { previousDeadline: string; deadline: string; reason: string } | null;
  readonly comments: Map<string, CommentRecord>;
  /** `${memberState} ${idempotencyKey}` → commentId */
  readonly idempotency: Map<string, string>;
  /** Submissions ever made per member state: numbers tracking numbers, never reused. */
  readonly submissionsByState: Map<string, number>;
  /** Comments not withdrawn, per member state: decides "commented" or "pending". */
  readonly activeByState: Map<string, number>;
  /** Reminders issued, as `${deadline} ${offsetSeconds}`: each is issued once per deadline and offset. */
  readonly remindersIssued: Set<string>;
  /** Number of events applied: equals the stream's sequence of the last one. */
  version: number;
}

export type ConsultationState = Consultation | null;

export type EventDraft = {
  [T in ConsultationEventType]: { type: T; version?: ConsultationEventOf<T>['version']; data: ConsultationEventOf<T>['data'] };
}[ConsultationEventType];

export type Decision =
  | { ok: true; events: EventDraft[]; receipt: Record<string, unknown>; replayed: boolean }
  | { ok: false; error: DomainError };

export const ms = (iso: string): number => Date.parse(iso);
export const utc = (iso: string): string => new Date(ms(iso)).toISOString();

/** A comment is on time when the gateway received it at or before the deadline, whenever it is processed. */
export function isOnTime(consultation: Consultation, receivedAt: string): boolean {
  return ms(receivedAt) <= ms(consultation.deadline);
}

export function accepted(
  events: EventDraft[],
  receipt: Record<string, unknown>,
  replayed = false,
): Decision {
  return { ok: true, events, receipt, replayed };
}

export function openingReceipt(c: Consultation): Record<string, unknown> {
  return { id: c.id, reference: c.reference, status: c.status, deadline: c.deadline, addressees: [...c.addressees] };
}

export function commentReceipt(c: Consultation, comment: CommentRecord): Record<string, unknown> {
  return {
    commentId: comment.commentId,
    trackingNumber: comment.trackingNumber,
    receivedAt: comment.submittedAt,
    memberState: comment.memberState,
    consultationId: c.id,
  };
}

/** Who commented, who answered "no comments" (a nil return is never a comment), and who answered nothing. */
export function respondedAndPending(c: Consultation): { responded: string[]; noComments: string[]; pending: string[] } {
  const responded: string[] = [];
  const noComments: string[] = [];
  const pending: string[] = [];
  for (const code of c.addressees) {
    if ((c.activeByState.get(code) ?? 0) > 0) responded.push(code);
    else if (c.noComments.has(code)) noComments.push(code);
    else pending.push(code);
  }
  return { responded, noComments, pending };
}

export const currentVersion = (c: Consultation): DocumentVersion => c.documentVersions[c.documentVersions.length - 1]!;

/** Decides what a command means against the current state. Pure: no clock, no IO, never mutates `state`. */
export function decide(state: ConsultationState, command: ConsultationCommand): Decision {
  switch (command.type) {
    case 'consultation.open':
      return decideOpen(state, command);
    case 'consultation.submit-comment':
      return decideSubmit(state, command);
    case 'consultation.amend-comment':
      return decideAmend(state, command);
    case 'consultation.withdraw-comment':
      return decideWithdraw(state, command);
    case 'consultation.extend-deadline':
      return decideExtend(state, command);
    case 'consultation.close':
      return decideClose(state, command);
    case 'consultation.issue-reminder':
      return decideReminder(state, command);
    case 'consultation.submit-no-comments':
      return decideNoComments(state, command);
    case 'consultation.break-silence':
      return decideBreakSilence(state, command);
    case 'consultation.issue-document-version':
      return decideIssueDocumentVersion(state, command);
  }
}

const reminderKey = (deadline: string, offsetSeconds: number): string => `${utc(deadline)} ${offsetSeconds}`;

function decideReminder(state: ConsultationState, cmd: ConsultationCommandOf<'consultation.issue-reminder'>): Decision {
  if (!state) return rejection('consultation-not-found', 'no such consultation');
  const { offsetSeconds, deadline } = cmd.data;
  const dueAt = new Date(ms(deadline) - offsetSeconds * 1000).toISOString();
  const receipt = { id: state.id, offsetSeconds, deadline, dueAt };
  if (state.remindersIssued.has(reminderKey(deadline, offsetSeconds))) return accepted([], receipt, true);
  if (state.status === 'closed') return rejection('consultation-closed', 'the consultation is closed');
  if (ms(deadline) !== ms(state.deadline))
    return rejection('reminder-stale', `scheduled for deadline ${deadline}; the deadline is now ${state.deadline}`);
  if (ms(cmd.receivedAt) < ms(dueAt)) return rejection('reminder-not-due', `the reminder is due at ${dueAt}`);
  // Reminders go to those who have not answered at all: not to commenters, nil returns or silence breakers.
  const broke = new Set(state.silenceBreaks.map((b) => b.memberState));
  const pending = respondedAndPending(state).pending.filter((code) => !broke.has(code));
  const localDeadlines = localDeadlinesOf(state.deadline, pending, state.timeZones);
  return accepted(
    [{ type: 'consultation.reminder-issued', data: { offsetSeconds, deadline: state.deadline, dueAt, pending, localDeadlines } }],
    { ...receipt, pending },
  );
}

/** The opening request in one comparable form, from the command or from the event it became. */
function openingRequest(d: ConsultationCommandOf<'consultation.open'>['data']): string {
  return canonicalJson({
    reference: d.reference,
    title: d.title,
    summary: d.summary ?? null,
    documents: d.documents,
    addressees: [...new Set(d.addressees)],
    deadline: d.deadline,
    reminderOffsetsSeconds: [...d.reminderOffsetsSeconds].sort((a, b) => b - a),
    commentVisibility: d.commentVisibility,
    procedure: d.procedure ?? 'comments',
  });
}

function decideOpen(state: ConsultationState, cmd: ConsultationCommandOf<'consultation.open'>): Decision {
  const d = cmd.data;
  if (state) {
    // The id comes from the Idempotency-Key: a retry of the same request gets the original receipt; the same
    // key with anything else asked differently is a conflict, as for comments.
    if (state.openedWith === openingRequest(d)) return accepted([], openingReceipt(state), true);
    return rejection('idempotency-key-reused', `consultation ${state.id} was opened with this Idempotency-Key and another request body`);
  }
  if (ms(d.deadline) <= ms(cmd.receivedAt))
    return rejection('deadline-not-in-future', `deadline ${d.deadline} is not after ${cmd.receivedAt}`);
  const unknown = d.addressees.filter((code) => !isMemberStateCode(code));
  if (unknown.length > 0) return rejection('unknown-member-state', `unknown member-state codes: ${unknown.join(', ')}`);
  const problem = documentsProblem(d.documents);
  if (problem) return rejection('invalid-documents', problem);
  const addressees = [...new Set(d.addressees)];
  const data: ConsultationEventOf<'consultation.opened'>['data'] = {
    consultationId: cmd.key,
    reference: d.reference,
    title: d.title,
    // As sent: the original is marked when state and views are built (unmarked: the first).
    documents: d.documents,
    addressees,
    deadline: d.deadline,
    reminderOffsetsSeconds: [...d.reminderOffsetsSeconds].sort((a, b) => b - a),
    commentVisibility: d.commentVisibility,
    openedAt: cmd.receivedAt,
    procedure: d.procedure ?? 'comments',
    timeZones: zonesFor(addressees, d.timeZones),
  };
  if (d.summary !== undefined) data.summary = d.summary;
  if (d.secretariatTimeZone !== undefined) data.secretariatTimeZone = d.secretariatTimeZone;
  return accepted([{ type: 'consultation.opened', data }], {
    id: cmd.key,
    reference: d.reference,
    status: 'open',
    deadline: d.deadline,
    addressees,
  });
}

/**
 * Comments, amendments, withdrawals, nil returns and silence breaks follow the receipt-time rule alone: one the
 * gateway received at or before the deadline is accepted even if it reaches the writer after the closing (a slow
 * network, a broker restart, a retry, another service's clock running ahead). The closing then records who had
 * responded when it was decided, and the late-processed answer follows it in the history (a silence break also
 * revises the closing's outcome: see `decideBreakSilence`).
 */
export function requireOnTime(state: ConsultationState, receivedAt: string): DomainError | Consultation {
  if (!state) return { code: 'consultation-not-found', detail: 'no such consultation' };
  if (!isOnTime(state, receivedAt))
    return {
      code: 'consultation-closed',
      detail: `the deadline ${state.deadline} has passed (received at ${utc(receivedAt)})`,
    };
  return state;
}

export function requireOpenAndOnTime(state: ConsultationState, receivedAt: string): DomainError | Consultation {
  if (!state) return { code: 'consultation-not-found', detail: 'no such consultation' };
  if (state.status === 'closed' || !isOnTime(state, receivedAt))
    return {
      code: 'consultation-closed',
      detail: `the deadline ${state.deadline} has passed (received at ${utc(receivedAt)})`,
    };
  return state;
}

export const isError = (v: DomainError | Consultation): v is DomainError => 'code' in v;

function decideSubmit(state: ConsultationState, cmd: ConsultationCommandOf<'consultation.submit-comment'>): Decision {
  const d = cmd.data;
  if (!state) return rejection('consultation-not-found', 'no such consultation');
  // Idempotency comes first: a retry of an accepted comment gets its receipt even after the deadline.
  const existingId = state.idempotency.get(`${d.memberState} ${d.idempotencyKey}`);
  if (existingId !== undefined) {
    const existing = state.comments.get(existingId);
    if (existing && existing.submittedBodyHash === d.bodyHash)
      return accepted([], commentReceipt(state, existing), true);
    return rejection(
      'idempotency-key-reused',
      `Idempotency-Key ${d.idempotencyKey} was used for another comment body`,
    );
  }
  if (!state.addressees.includes(d.memberState))
    return rejection('not-an-addressee', `${d.memberState} is not an addressee of ${state.reference}`);
  const open = requireOnTime(state, cmd.receivedAt);
  if (isError(open)) return { ok: false, error: open };
  const n = (state.submissionsByState.get(d.memberState) ?? 0) + 1;
  const data: ConsultationEventOf<'consultation.comment-submitted'>['data'] = {
    commentId: d.commentId,
    trackingNumber: `${state.reference}/${d.memberState}/${n}`,
    memberState: d.memberState,
    body: d.body,
    language: d.language,
    bodyHash: d.bodyHash,
    idempotencyKey: d.idempotencyKey,
    receivedAt: cmd.receivedAt,
    documentVersion: currentVersion(state).version,
    ...(d.attachments !== undefined ? { attachments: d.attachments } : {}),
  };
  return accepted([{ type: 'consultation.comment-submitted', data }], {
    commentId: data.commentId,
    trackingNumber: data.trackingNumber,
    receivedAt: data.receivedAt,
    memberState: data.memberState,
    consultationId: state.id,
  });
}

function ownComment(state: Consultation, commentId: string, memberState: string): DomainError | CommentRecord {
  const comment = state.comments.get(commentId);
  if (!comment) return { code: 'comment-not-found', detail: `no comment ${commentId}` };
  if (comment.memberState !== memberState)
    return { code: 'not-comment-owner', detail: `comment ${commentId} belongs to another member state` };
  if (comment.withdrawn) return { code: 'comment-withdrawn', detail: `comment ${commentId} was withdrawn` };
  return comment;
}

function decideAmend(state: ConsultationState, cmd: ConsultationCommandOf<'consultation.amend-comment'>): Decision {
  const open = requireOnTime(state, cmd.receivedAt);
  if (isError(open)) return { ok: false, error: open };
  const comment = ownComment(open, cmd.data.commentId, cmd.data.memberState);
  if (!('commentId' in comment)) return { ok: false, error: comment };
  const c = comment;
  // The same text again (a retried PUT) is answered with the current revision, and adds none.
  if (c.bodyHash === cmd.data.bodyHash)
    return accepted(
      [],
      {
        commentId: c.commentId,
        trackingNumber: c.trackingNumber,
        revision: c.revision,
        receivedAt: c.lastChangedAt,
        memberState: c.memberState,
        consultationId: open.id,
      },
      true,
    );
  const revision = c.revision + 1;
  return accepted(
    [
      {
        type: 'consultation.comment-amended',
        data: {
          commentId: c.commentId,
          memberState: c.memberState,
          revision,
          body: cmd.data.body,
          language: cmd.data.language,
          bodyHash: cmd.data.bodyHash,
          receivedAt: cmd.receivedAt,
          documentVersion: currentVersion(open).version,
        },
      },
    ],
    {
      commentId: c.commentId,
      trackingNumber: c.trackingNumber,
      revision,
      receivedAt: cmd.receivedAt,
      memberState: c.memberState,
      consultationId: open.id,
    },
  );
}

function decideWithdraw(
  state: ConsultationState,
  cmd: ConsultationCommandOf<'consultation.withdraw-comment'>,
): Decision {
  const open = requireOnTime(state, cmd.receivedAt);
  if (isError(open)) return { ok: false, error: open };
  const comment = ownComment(open, cmd.data.commentId, cmd.data.memberState);
  if (!('commentId' in comment)) return { ok: false, error: comment };
  return accepted(
    [
      {
        type: 'consultation.comment-withdrawn',
        data: { commentId: comment.commentId, memberState: comment.memberState, receivedAt: cmd.receivedAt },
      },
    ],
    {
      commentId: comment.commentId,
      trackingNumber: comment.trackingNumber,
      withdrawnAt: cmd.receivedAt,
      memberState: comment.memberState,
      consultationId: open.id,
    },
  );
}

function decideExtend(state: ConsultationState, cmd: ConsultationCommandOf<'consultation.extend-deadline'>): Decision {
  const open = requireOpenAndOnTime(state, cmd.receivedAt);
  if (isError(open)) return { ok: false, error: open };
  const last = open.lastExtension;
  if (last && last.deadline === open.deadline && last.deadline === cmd.data.deadline && last.reason === cmd.data.reason)
    return accepted([], { id: open.id, previousDeadline: last.previousDeadline, deadline: last.deadline }, true);
  if (ms(cmd.data.deadline) <= ms(open.deadline))
    return rejection(
      'deadline-not-later',
      `the new deadline ${cmd.data.deadline} is not later than the current ${open.deadline}`,
    );
  return accepted(
    [
      {
        type: 'consultation.deadline-extended',
        data: {
          previousDeadline: open.deadline,
          deadline: cmd.data.deadline,
          reason: cmd.data.reason,
          receivedAt: cmd.receivedAt,
        },
      },
    ],
    { id: open.id, previousDeadline: open.deadline, deadline: cmd.data.deadline },
  );
}

/**
 * The closing decision at the deadline. Under silence procedure the text is deemed adopted unless some
 * addressee broke silence; breaks are only ever accepted when received by the deadline (receipt-time rule).
 * One received in time that reaches the writer after the closing revises the outcome it recorded
 * (`consultation.silence-outcome-revised`, see `decideBreakSilence`).
 */
function decideClose(state: ConsultationState, cmd: ConsultationCommandOf<'consultation.close'>): Decision {
  if (!state) return rejection('consultation-not-found', 'no such consultation');
  if (state.status === 'closed')
    return accepted([], { id: state.id, closedAt: state.closedAt, deadline: state.deadline, ...state.closing }, true);
  if (ms(cmd.receivedAt) < ms(state.deadline))
    return rejection('deadline-not-reached', `the deadline ${state.deadline} has not passed`);
  const summary = respondedAndPending(state);
  const data: ConsultationEventOf<'consultation.closed'>['data'] = {
    closedAt: cmd.receivedAt,
    deadline: state.deadline,
    procedure: state.procedure,
    ...summary,
    documentVersion: currentVersion(state).version,
  };
  if (state.procedure === 'silence') {
    const brokenBy = state.silenceBreaks.filter((b) => ms(b.receivedAt) <= ms(state.deadline));
    data.silence = { outcome: brokenBy.length > 0 ? 'silence-broken' : 'deemed-adopted', brokenBy };
  }
  const { closedAt: _closedAt, deadline: _deadline, procedure: _procedure, documentVersion: _version, ...closing } = data;
  return accepted([{ type: 'consultation.closed', version: 2, data }], { id: state.id, closedAt: data.closedAt, deadline: data.deadline, ...closing });
}

export type AppliedEvent = EventDraft & { sequence?: number };

/**
 * Applies one event. To stay O(1) per event on consultations with many comments, evolve takes ownership of
 * `state` and may update its collections in place: callers must use the returned state, not the argument.
 */
export function evolve(state: ConsultationState, event: AppliedEvent): ConsultationState {
  if (event.type === 'consultation.opened') {
    const d = event.data;
    return {
      id: d.consultationId,
      reference: d.reference,
      title: d.title,
      summary: d.summary,
      documents: withOriginalMarked(d.documents),
      addressees: d.addressees,
      reminderOffsetsSeconds: d.reminderOffsetsSeconds,
      commentVisibility: d.commentVisibility,
      openedAt: d.openedAt,
      openedWith: openingRequest(d),
      procedure: d.procedure ?? 'comments',
      timeZones: d.timeZones ?? zonesFor(d.addressees),
      secretariatTimeZone: d.secretariatTimeZone,
      documentVersions: [
        {
          version: 1,
          kind: 'original',
          number: 0,
          symbol: d.reference,
          documents: withOriginalMarked(d.documents),
          issuedAt: d.openedAt,
          resetsDeadline: false,
          resetsSilence: false,
        },
      ],
      noComments: new Map(),
      silenceBreaks: [],
      closing: null,
      deadline: d.deadline,
      status: 'open',
      closedAt: null,
      deadlineExtensions: 0,
      lastExtension: null,
      comments: new Map(),
      idempotency: new Map(),
      submissionsByState: new Map(),
      activeByState: new Map(),
      remindersIssued: new Set(),
      version: event.sequence ?? 1,
    };
  }
  if (!state) return state; // an event for a stream that never opened: ignored, verification reports it
  state.version = event.sequence ?? state.version + 1;
  switch (event.type) {
    case 'consultation.comment-submitted': {
      const d = event.data;
      state.comments.set(d.commentId, {
        commentId: d.commentId,
        memberState: d.memberState,
        trackingNumber: d.trackingNumber,
        idempotencyKey: d.idempotencyKey,
        submittedBodyHash: d.bodyHash,
        submittedAt: d.receivedAt,
        bodyHash: d.bodyHash,
        revision: 1,
        language: d.language,
        withdrawn: false,
        lastChangedAt: d.receivedAt,
        documentVersion: d.documentVersion ?? 1,
      });
      // A comment replaces a nil return: the addressee has commented after all.
      state.noComments.delete(d.memberState);
      state.idempotency.set(`${d.memberState} ${d.idempotencyKey}`, d.commentId);
      state.submissionsByState.set(d.memberState, (state.submissionsByState.get(d.memberState) ?? 0) + 1);
      state.activeByState.set(d.memberState, (state.activeByState.get(d.memberState) ?? 0) + 1);
      return state;
    }
    case 'consultation.comment-amended': {
      const c = state.comments.get(event.data.commentId);
      if (c) {
        c.revision = event.data.revision;
        c.bodyHash = event.data.bodyHash;
        c.language = event.data.language;
        c.lastChangedAt = event.data.receivedAt;
        c.documentVersion = event.data.documentVersion ?? c.documentVersion;
      }
      return state;
    }
    case 'consultation.comment-withdrawn': {
      const c = state.comments.get(event.data.commentId);
      if (c && !c.withdrawn) {
        c.withdrawn = true;
        c.lastChangedAt = event.data.receivedAt;
        state.activeByState.set(c.memberState, Math.max(0, (state.activeByState.get(c.memberState) ?? 1) - 1));
      }
      return state;
    }
    case 'consultation.deadline-extended':
      state.deadline = event.data.deadline;
      state.deadlineExtensions += 1;
      state.lastExtension = { previousDeadline: event.data.previousDeadline, deadline: event.data.deadline, reason: event.data.reason };
      return state;
    case 'consultation.closed': {
      const { responded, noComments, pending, silence } = event.data;
      state.status = 'closed';
      state.closedAt = event.data.closedAt;
      state.closing = { responded, noComments, pending, ...(silence ? { silence } : {}) };
      return state;
    }
    case 'consultation.reminder-issued':
      state.remindersIssued.add(reminderKey(event.data.deadline, event.data.offsetSeconds));
      return state;
    case 'consultation.no-comments-submitted':
      state.noComments.set(event.data.memberState, event.data.receivedAt);
      return state;
    case 'consultation.silence-broken': {
      const { memberState, reason, receivedAt } = event.data;
      state.silenceBreaks.push({ memberState, reason, receivedAt });
      return state;
    }
    case 'consultation.silence-outcome-revised': {
      // The closing event stays as decided; the outcome in force is the revision's.
      if (state.closing) state.closing = { ...state.closing, silence: { outcome: event.data.outcome, brokenBy: [...event.data.brokenBy] } };
      return state;
    }
    case 'consultation.document-version-issued': {
      const d = event.data;
      const version: DocumentVersion = {
        version: d.version,
        kind: d.kind,
        number: d.number,
        symbol: d.symbol,
        documents: withOriginalMarked(d.documents),
        issuedAt: d.issuedAt,
        resetsDeadline: d.resetsDeadline,
        resetsSilence: d.resetsSilence,
      };
      if (d.note !== undefined) version.note = d.note;
      if (d.idempotencyKey !== undefined) version.idempotencyKey = d.idempotencyKey;
      state.documentVersions.push(version);
      state.documents = version.documents;
      if (d.resetsSilence) state.silenceBreaks = [];
      return state;
    }
  }
}

export * from './view.js';
