import type { ConsultationCommandOf, ConsultationEventOf } from '@consult/contracts';
import {
  accepted,
  currentVersion,
  isError,
  ms,
  requireOnTime,
  requireOpenAndOnTime,
  type Consultation,
  type ConsultationState,
  type Decision,
  type EventDraft,
} from './consultation.js';
import { rejection } from './errors.js';
import { documentsProblem } from './languages.js';

/**
 * Diplomatic practice: nil returns, the silence procedure, corrigenda and revisions. Pure deciders, like the
 * rest of the domain; every time is the gateway's receipt time on the command.
 */

export function noCommentsReceipt(c: Consultation, memberState: string, receivedAt: string): Record<string, unknown> {
  return { consultationId: c.id, memberState, status: 'no-comments', receivedAt };
}

/**
 * "No comments": an addressee's nil return. Idempotent; refused once it has comments, or when received after
 * the deadline. Like a comment, one received by the deadline is accepted even when it reaches the writer after
 * the closing (the receipt-time rule); the closing keeps what it recorded, the nil return follows it.
 */
export function decideNoComments(
  state: ConsultationState,
  cmd: ConsultationCommandOf<'consultation.submit-no-comments'>,
): Decision {
  if (!state) return rejection('consultation-not-found', 'no such consultation');
  const { memberState } = cmd.data;
  if (!state.addressees.includes(memberState))
    return rejection('not-an-addressee', `${memberState} is not an addressee of ${state.reference}`);
  // A repeated nil return gets the first one's receipt, even after the deadline.
  const earlier = state.noComments.get(memberState);
  if (earlier !== undefined) return accepted([], noCommentsReceipt(state, memberState, earlier), true);
  const open = requireOnTime(state, cmd.receivedAt);
  if (isError(open)) return { ok: false, error: open };
  if ((open.activeByState.get(memberState) ?? 0) > 0)
    return rejection('already-commented', `${memberState} has comments on ${open.reference}; withdraw them first`);
  return accepted(
    [
      {
        type: 'consultation.no-comments-submitted',
        data: { memberState, receivedAt: cmd.receivedAt, documentVersion: currentVersion(open).version },
      },
    ],
    noCommentsReceipt(open, memberState, cmd.receivedAt),
  );
}

export function silenceBreakReceipt(c: Consultation, b: { memberState: string; reason: string; receivedAt: string }) {
  return { consultationId: c.id, memberState: b.memberState, reason: b.reason, receivedAt: b.receivedAt, status: 'silence-broken' };
}

/**
 * Breaking silence: only under silence procedure, only an addressee, and only if received by the deadline
 * (the receipt-time rule: `receivedAt <= deadline`), however late it reaches the writer. Idempotent per member
 * state while its break counts. A break received in time that is processed after a closing which recorded
 * `deemed-adopted` revises that outcome in the same decision (`consultation.silence-outcome-revised`): the
 * closing missed it only because it was still in flight.
 */
export function decideBreakSilence(
  state: ConsultationState,
  cmd: ConsultationCommandOf<'consultation.break-silence'>,
): Decision {
  if (!state) return rejection('consultation-not-found', 'no such consultation');
  const { memberState, reason } = cmd.data;
  if (!state.addressees.includes(memberState))
    return rejection('not-an-addressee', `${memberState} is not an addressee of ${state.reference}`);
  if (state.procedure !== 'silence')
    return rejection('not-under-silence-procedure', `${state.reference} was not circulated under silence procedure`);
  const earlier = state.silenceBreaks.find((b) => b.memberState === memberState);
  if (earlier) return accepted([], silenceBreakReceipt(state, earlier), true);
  const open = requireOnTime(state, cmd.receivedAt);
  if (isError(open)) return { ok: false, error: open };
  const data = { memberState, reason, receivedAt: cmd.receivedAt, documentVersion: currentVersion(open).version };
  const events: EventDraft[] = [{ type: 'consultation.silence-broken', data }];
  const revision = revisedOutcome(open, data);
  if (revision) events.push(revision);
  return accepted(events, silenceBreakReceipt(open, data));
}

/**
 * The revision a break processed after the closing makes: only when the closing recorded `deemed-adopted`
 * (once broken, a later break changes who broke it, not the outcome; the view lists every break).
 */
function revisedOutcome(
  c: Consultation,
  brk: { memberState: string; reason: string; receivedAt: string; documentVersion: number },
): EventDraft | null {
  if (c.status !== 'closed' || c.closing?.silence?.outcome !== 'deemed-adopted' || c.closedAt === null) return null;
  const { memberState, reason, receivedAt } = brk;
  return {
    type: 'consultation.silence-outcome-revised',
    data: {
      previousOutcome: 'deemed-adopted',
      outcome: 'silence-broken',
      brokenBy: [...c.silenceBreaks, { memberState, reason, receivedAt }],
      memberState,
      reason,
      receivedAt,
      cause: 'processed-after-closing',
      deadline: c.deadline,
      closedAt: c.closedAt,
      documentVersion: brk.documentVersion,
    },
  };
}

export function documentVersionReceipt(c: Consultation, version: number): Record<string, unknown> {
  const v = c.documentVersions.find((d) => d.version === version)!;
  return {
    consultationId: c.id,
    version: v.version,
    kind: v.kind,
    number: v.number,
    symbol: v.symbol,
    issuedAt: v.issuedAt,
    resetsDeadline: v.resetsDeadline,
    resetsSilence: v.resetsSilence,
    deadline: c.deadline,
  };
}

/**
 * A corrigendum or a revision: the next version of the documents. Only a revision may reset the deadline
 * (a new, later one) or, under silence procedure, the silence; both only when the Secretariat asks, and the
 * event says so. A new deadline is also recorded as `deadline-extended`, which reschedules reminders.
 */
export function decideIssueDocumentVersion(
  state: ConsultationState,
  cmd: ConsultationCommandOf<'consultation.issue-document-version'>,
): Decision {
  if (!state) return rejection('consultation-not-found', 'no such consultation');
  const d = cmd.data;
  if (d.idempotencyKey !== undefined) {
    const earlier = state.documentVersions.find((v) => v.idempotencyKey === d.idempotencyKey);
    if (earlier) return accepted([], documentVersionReceipt(state, earlier.version), true);
  }
  const open = requireOpenAndOnTime(state, cmd.receivedAt);
  if (isError(open)) return { ok: false, error: open };
  const problem = documentsProblem(d.documents);
  if (problem) return rejection('invalid-documents', problem);
  const resetsDeadline = d.deadline !== undefined;
  const resetsSilence = d.resetSilence === true;
  if ((resetsDeadline || resetsSilence) && d.kind !== 'revision')
    return rejection('reset-needs-revision', 'only a revised text (Rev.) resets the deadline or the silence');
  if (resetsSilence && open.procedure !== 'silence')
    return rejection('not-under-silence-procedure', `${open.reference} was not circulated under silence procedure`);
  if (d.deadline !== undefined && ms(d.deadline) <= ms(open.deadline))
    return rejection('deadline-not-later', `the new deadline ${d.deadline} is not later than the current ${open.deadline}`);
  const number = open.documentVersions.filter((v) => v.kind === d.kind).length + 1;
  const symbol = `${open.reference}/${d.kind === 'corrigendum' ? 'Corr' : 'Rev'}.${number}`;
  const version = currentVersion(open).version + 1;
  const data: ConsultationEventOf<'consultation.document-version-issued'>['data'] = {
    version,
    kind: d.kind,
    number,
    symbol,
    documents: d.documents,
    issuedAt: cmd.receivedAt,
    resetsDeadline,
    resetsSilence,
    deadline: d.deadline ?? open.deadline,
  };
  if (d.note !== undefined) data.note = d.note;
  if (d.idempotencyKey !== undefined) data.idempotencyKey = d.idempotencyKey;
  const events: EventDraft[] = [{ type: 'consultation.document-version-issued', data }];
  if (d.deadline !== undefined)
    events.push({
      type: 'consultation.deadline-extended',
      data: {
        previousDeadline: open.deadline,
        deadline: d.deadline,
        reason: `${symbol} issued: the deadline runs again`,
        receivedAt: cmd.receivedAt,
      },
    });
  return accepted(events, {
    consultationId: open.id,
    version,
    kind: d.kind,
    number,
    symbol,
    issuedAt: cmd.receivedAt,
    resetsDeadline,
    resetsSilence,
    deadline: data.deadline,
  });
}
