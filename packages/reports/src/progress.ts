import type { ConsultationEvent } from '@consult/contracts';

/**
 * Progress figures for a period, computed from the event history alone: the same events always give the same
 * report, so a past period's report is the same whenever it is asked.
 *
 * - A consultation belongs to the period when it was opened in [from, to).
 * - Only what had happened by `to` counts: consultation events with `occurredAt < to`, statement transitions
 *   received before `to`.
 * - A member state has responded when it has an answer that stands; its response time runs from the opening to
 *   the receipt of its earliest standing answer. The answers, and when they stand:
 *   - a comment, from its submission until it is withdrawn;
 *   - a nil return ("no comments"), until the state comments after all (the comment replaces it, as in the
 *     response matrix, so a state whose only comment is then withdrawn has answered nothing, as the matrix says);
 *   - under silence procedure, a silence break: the state has spoken, so it has responded, although the matrix
 *     (commented / no-comments / pending) shows it as pending unless it also commented. A break stands until a
 *     revision resets the silence (`resetsSilence`): the break was on the text replaced, the closing decision no
 *     longer lists it, and the state has to speak again on the revised text to count as responded.
 * - A response is on time when it was received at or before the deadline in force at that moment.
 * - Reminders before a response: reminders that named the state as pending before its response was received.
 * - Under silence procedure, the outcome is the closing's, or that of its latest revision by then (a break
 *   received by the deadline but processed after the closing revises `deemed-adopted` to `silence-broken`).
 */
export interface ReportPeriod {
  from: string;
  to: string;
}

export interface ConsultationFigures {
  id: string;
  reference: string;
  title: string;
  openedAt: string;
  deadline: string;
  status: 'open' | 'closed';
  addressees: number;
  responded: number;
  /** responded / addressees, 0..1 */
  responseRate: number;
  medianResponseSeconds: number | null;
  /** of the responses, the share received on time; null without responses */
  onTimeShare: number | null;
  /** mean over the responses; null without responses */
  remindersBeforeResponse: number | null;
  remindersIssued: number;
  extensions: number;
  pending: string[];
  /** Under silence procedure once closed: the outcome in force at the end of the period; otherwise null. */
  silenceOutcome: 'deemed-adopted' | 'silence-broken' | null;
}

export interface MemberStateFigures {
  memberState: string;
  consultations: number;
  responded: number;
  responseRate: number;
  medianResponseSeconds: number | null;
  onTimeShare: number | null;
  remindersBeforeResponse: number | null;
  /** deadline extensions granted on the consultations addressed to the state */
  extensions: number;
}

export interface CsoFigures {
  csoId: string;
  name: string;
  submitted: number;
  forwarded: number;
  returned: number;
  /** submitted but neither forwarded nor returned by the end of the period */
  inReview: number;
  /** from receipt to the first decision (forwarded or returned), over decided statements */
  medianReviewSeconds: number | null;
}

export interface ProgressReport {
  period: ReportPeriod;
  totals: {
    consultations: number;
    addressed: number;
    responded: number;
    responseRate: number;
    statements: number;
    forwarded: number;
    returned: number;
  };
  memberStates: MemberStateFigures[];
  consultations: ConsultationFigures[];
  csos: CsoFigures[];
}

export interface StatementTransitionRecord {
  status: string;
  at: string;
}

export interface StatementRecord {
  statementId: string;
  csoId: string;
  receivedAt: string;
  history: StatementTransitionRecord[];
}

export interface ReportInput {
  period: ReportPeriod;
  /** Each consultation's events in sequence order (decoded, upcast). */
  consultations: ConsultationEvent[][];
  statements: StatementRecord[];
  /** CSO names by id (display only). */
  csoNames?: Record<string, string>;
}

const ms = (iso: string): number => Date.parse(iso);

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const mean = (values: readonly number[]): number | null =>
  values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;

const ratio = (part: number, whole: number): number => (whole === 0 ? 0 : part / whole);

interface Response {
  seconds: number;
  onTime: boolean;
  remindersBefore: number;
}

interface ConsultationOutcome {
  figures: ConsultationFigures;
  addressees: readonly string[];
  responses: Map<string, Response>;
}

/** One consultation as it stood at `to`, or null when it was not opened in the period. */
export function consultationOutcome(events: readonly ConsultationEvent[], period: ReportPeriod): ConsultationOutcome | null {
  const opened = events.find((e) => e.type === 'consultation.opened');
  if (!opened || opened.type !== 'consultation.opened') return null;
  const openedAt = opened.data.openedAt;
  if (ms(openedAt) < ms(period.from) || ms(openedAt) >= ms(period.to)) return null;

  const addressees = opened.data.addressees;
  let deadline = opened.data.deadline;
  let status: 'open' | 'closed' = 'open';
  let extensions = 0;
  let remindersIssued = 0;
  let silenceOutcome: ConsultationFigures['silenceOutcome'] = null;
  // Standing answers: `comment:<id>`, `nil:<state>`, `silence:<state>` → state, receipt, whether on time.
  const standing = new Map<string, { memberState: string; receivedAt: string; onTime: boolean }>();
  const answer = (memberState: string, receivedAt: string) => ({ memberState, receivedAt, onTime: ms(receivedAt) <= ms(deadline) });
  // Reminder receipts per state: the times at which a reminder named the state as pending.
  const reminded = new Map<string, string[]>();

  for (const event of events) {
    if (ms(event.occurredAt) >= ms(period.to)) break;
    switch (event.type) {
      case 'consultation.comment-submitted':
        standing.set(`comment:${event.data.commentId}`, answer(event.data.memberState, event.data.receivedAt));
        // A comment replaces the state's nil return.
        standing.delete(`nil:${event.data.memberState}`);
        break;
      case 'consultation.comment-withdrawn':
        standing.delete(`comment:${event.data.commentId}`);
        break;
      case 'consultation.no-comments-submitted':
        if (!standing.has(`nil:${event.data.memberState}`))
          standing.set(`nil:${event.data.memberState}`, answer(event.data.memberState, event.data.receivedAt));
        break;
      case 'consultation.silence-broken':
        if (!standing.has(`silence:${event.data.memberState}`))
          standing.set(`silence:${event.data.memberState}`, answer(event.data.memberState, event.data.receivedAt));
        break;
      case 'consultation.document-version-issued':
        if (event.data.resetsSilence) for (const key of [...standing.keys()]) if (key.startsWith('silence:')) standing.delete(key);
        break;
      case 'consultation.deadline-extended':
        deadline = event.data.deadline;
        extensions += 1;
        break;
      case 'consultation.reminder-issued':
        remindersIssued += 1;
        for (const code of event.data.pending) reminded.set(code, [...(reminded.get(code) ?? []), event.occurredAt]);
        break;
      case 'consultation.closed':
        status = 'closed';
        silenceOutcome = event.data.silence?.outcome ?? null;
        break;
      case 'consultation.silence-outcome-revised':
        silenceOutcome = event.data.outcome;
        break;
      default:
        break;
    }
  }

  const responses = new Map<string, Response>();
  for (const first of standing.values()) {
    const earlier = responses.get(first.memberState);
    const seconds = (ms(first.receivedAt) - ms(openedAt)) / 1000;
    if (earlier && earlier.seconds <= seconds) continue;
    const remindersBefore = (reminded.get(first.memberState) ?? []).filter((at) => ms(at) < ms(first.receivedAt)).length;
    responses.set(first.memberState, { seconds, onTime: first.onTime, remindersBefore });
  }
  const list = addressees.map((code) => responses.get(code)).filter((r): r is Response => r !== undefined);
  const figures: ConsultationFigures = {
    id: opened.key,
    reference: opened.data.reference,
    title: opened.data.title,
    openedAt,
    deadline,
    status,
    addressees: addressees.length,
    responded: list.length,
    responseRate: ratio(list.length, addressees.length),
    medianResponseSeconds: median(list.map((r) => r.seconds)),
    onTimeShare: list.length === 0 ? null : ratio(list.filter((r) => r.onTime).length, list.length),
    remindersBeforeResponse: mean(list.map((r) => r.remindersBefore)),
    remindersIssued,
    extensions,
    pending: addressees.filter((code) => !responses.has(code)),
    silenceOutcome,
  };
  return { figures, addressees, responses };
}

export function csoFigures(statements: readonly StatementRecord[], period: ReportPeriod, names: Record<string, string> = {}): CsoFigures[] {
  const byCso = new Map<string, { submitted: number; forwarded: number; returned: number; review: number[] }>();
  for (const s of statements) {
    if (ms(s.receivedAt) < ms(period.from) || ms(s.receivedAt) >= ms(period.to)) continue;
    const entry = byCso.get(s.csoId) ?? { submitted: 0, forwarded: 0, returned: 0, review: [] };
    byCso.set(s.csoId, entry);
    entry.submitted += 1;
    const decision = s.history.find((t) => (t.status === 'forwarded' || t.status === 'returned') && ms(t.at) < ms(period.to));
    if (!decision) continue;
    if (decision.status === 'forwarded') entry.forwarded += 1;
    else entry.returned += 1;
    entry.review.push((ms(decision.at) - ms(s.receivedAt)) / 1000);
  }
  return [...byCso.entries()]
    .map(([csoId, e]) => ({
      csoId,
      name: names[csoId] ?? csoId,
      submitted: e.submitted,
      forwarded: e.forwarded,
      returned: e.returned,
      inReview: e.submitted - e.forwarded - e.returned,
      medianReviewSeconds: median(e.review),
    }))
    .sort((a, b) => a.csoId.localeCompare(b.csoId));
}

export function computeProgressReport(input: ReportInput): ProgressReport {
  const { period } = input;
  const outcomes = input.consultations
    .map((events) => consultationOutcome(events, period))
    .filter((o): o is ConsultationOutcome => o !== null)
    .sort((a, b) => ms(a.figures.openedAt) - ms(b.figures.openedAt) || a.figures.id.localeCompare(b.figures.id));

  const states = new Map<string, { consultations: number; responses: Response[]; extensions: number }>();
  for (const o of outcomes) {
    for (const code of o.addressees) {
      const entry = states.get(code) ?? { consultations: 0, responses: [], extensions: 0 };
      states.set(code, entry);
      entry.consultations += 1;
      entry.extensions += o.figures.extensions;
      const response = o.responses.get(code);
      if (response) entry.responses.push(response);
    }
  }
  const memberStates: MemberStateFigures[] = [...states.entries()]
    .map(([memberState, e]) => ({
      memberState,
      consultations: e.consultations,
      responded: e.responses.length,
      responseRate: ratio(e.responses.length, e.consultations),
      medianResponseSeconds: median(e.responses.map((r) => r.seconds)),
      onTimeShare: e.responses.length === 0 ? null : ratio(e.responses.filter((r) => r.onTime).length, e.responses.length),
      remindersBeforeResponse: mean(e.responses.map((r) => r.remindersBefore)),
      extensions: e.extensions,
    }))
    .sort((a, b) => a.memberState.localeCompare(b.memberState));

  const csos = csoFigures(input.statements, period, input.csoNames);
  const consultations = outcomes.map((o) => o.figures);
  const addressed = consultations.reduce((n, c) => n + c.addressees, 0);
  const responded = consultations.reduce((n, c) => n + c.responded, 0);
  return {
    period,
    totals: {
      consultations: consultations.length,
      addressed,
      responded,
      responseRate: ratio(responded, addressed),
      statements: csos.reduce((n, c) => n + c.submitted, 0),
      forwarded: csos.reduce((n, c) => n + c.forwarded, 0),
      returned: csos.reduce((n, c) => n + c.returned, 0),
    },
    memberStates,
    consultations,
    csos,
  };
}
