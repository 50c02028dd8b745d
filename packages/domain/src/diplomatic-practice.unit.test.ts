import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ConsultationCommand, ConsultationCommandOf, ConsultationCommandType } from '@consult/contracts';
import { consultationAsOf } from './as-of.js';
import { decide, evolve, respondedAndPending, type ConsultationState, type Decision, type EventDraft } from './consultation.js';
import { localizeView, viewOf } from './view.js';

const ID = '00000000-0000-4000-8000-000000000001';
const OPENED_AT = '2023-03-01T00:00:00.000Z';
const DEADLINE = '2023-03-20T12:00:00.000Z'; // 18:00 in Astana (UTC+6 in 2023)
const DEADLINE_MS = Date.parse(DEADLINE);
const ADDRESSEES = ['KHM', 'THA', 'KAZ', 'RUS'];
const at = (offsetMs: number): string => new Date(DEADLINE_MS + offsetMs).toISOString();

let seq = 0;
function command<T extends ConsultationCommandType>(
  type: T,
  data: ConsultationCommandOf<T>['data'],
  receivedAt: string,
  actor: { kind: 'member-state' | 'secretariat' | 'system'; id: string } = { kind: 'member-state', id: 'KHM' },
): ConsultationCommandOf<T> {
  seq += 1;
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    type,
    version: 1,
    key: ID,
    receivedAt,
    correlationId: 'test',
    actor,
    data,
  } as unknown as ConsultationCommandOf<T>;
}

const open = (procedure: 'comments' | 'silence' = 'comments') =>
  command(
    'consultation.open',
    {
      reference: 'IO/218',
      title: 'Draft rules of procedure',
      documents: [
        { language: 'en', title: 'Draft rules of procedure', original: true },
        { language: 'ru', title: 'Проект правил процедуры' },
        { language: 'kk', title: 'Рәсімдер ережесінің жобасы' },
      ],
      addressees: ADDRESSEES,
      deadline: DEADLINE,
      reminderOffsetsSeconds: [86_400],
      commentVisibility: 'own',
      procedure,
      timeZones: { KAZ: 'Asia/Almaty' },
      secretariatTimeZone: 'Asia/Almaty',
    },
    OPENED_AT,
    { kind: 'secretariat', id: 'secretariat' },
  );

let commentCounter = 1;
const comment = (memberState: string, receivedAt: string, key = `k${commentCounter}`) =>
  command(
    'consultation.submit-comment',
    {
      commentId: `00000000-0000-4000-9000-${String(commentCounter++).padStart(12, '0')}`,
      memberState,
      idempotencyKey: key,
      body: 'text',
      language: 'en',
      bodyHash: 'a'.repeat(64),
    },
    receivedAt,
    { kind: 'member-state', id: memberState },
  );
const withdraw = (memberState: string, commentId: string, receivedAt: string) =>
  command('consultation.withdraw-comment', { commentId, memberState }, receivedAt, { kind: 'member-state', id: memberState });
const noComments = (memberState: string, receivedAt: string) =>
  command('consultation.submit-no-comments', { memberState }, receivedAt, { kind: 'member-state', id: memberState });
const breakSilence = (memberState: string, receivedAt: string, reason = 'We object to rule 12') =>
  command('consultation.break-silence', { memberState, reason }, receivedAt, { kind: 'member-state', id: memberState });
const close = (receivedAt = at(2_000)) => command('consultation.close', {}, receivedAt, { kind: 'system', id: 'deadlines' });
const remind = (receivedAt = at(-86_400_000)) =>
  command('consultation.issue-reminder', { offsetSeconds: 86_400, deadline: DEADLINE }, receivedAt, { kind: 'system', id: 'deadlines' });
const issueVersion = (
  data: Partial<ConsultationCommandOf<'consultation.issue-document-version'>['data']>,
  receivedAt: string,
) =>
  command(
    'consultation.issue-document-version',
    {
      kind: 'revision',
      documents: [
        { language: 'en', title: 'Revised draft rules of procedure', original: true },
        { language: 'ru', title: 'Пересмотренный проект правил процедуры' },
      ],
      ...data,
    },
    receivedAt,
    { kind: 'secretariat', id: 'secretariat' },
  );

interface Recorded {
  state: ConsultationState;
  decisions: Decision[];
  events: (EventDraft & { sequence: number; occurredAt: string })[];
}

function run(commands: ConsultationCommand[]): Recorded {
  let state: ConsultationState = null;
  const decisions: Decision[] = [];
  const events: Recorded['events'] = [];
  for (const c of commands) {
    const d = decide(state, c);
    decisions.push(d);
    if (d.ok)
      for (const draft of d.events) {
        const event = { ...draft, sequence: (state?.version ?? 0) + 1, occurredAt: c.receivedAt };
        events.push(event);
        state = evolve(state, event);
      }
  }
  return { state, decisions, events };
}

const ofType = <T extends EventDraft['type']>(r: Recorded, type: T) =>
  r.events.filter((e): e is Extract<Recorded['events'][number], { type: T }> => e.type === type);

describe('nil returns', () => {
  it('shows "no-comments" in the response matrix, never counts it as a comment, and is idempotent', () => {
    const r = run([open(), noComments('KHM', at(-5_000)), comment('THA', at(-4_000)), noComments('KHM', at(-3_000))]);
    const view = viewOf(r.state!);
    expect(view.responses).toEqual({ KHM: 'no-comments', THA: 'commented', KAZ: 'pending', RUS: 'pending' });
    expect(view.commentCount).toBe(1);
    expect(view.noCommentsCount).toBe(1);
    expect(r.decisions[3]).toMatchObject({ ok: true, replayed: true, events: [], receipt: { receivedAt: at(-5_000) } });
    expect(ofType(r, 'consultation.no-comments-submitted')).toHaveLength(1);
  });

  it('reminds only the pending: not those who commented nor those who answered "no comments"', () => {
    const r = run([open(), noComments('KHM', at(-90_000_000)), comment('THA', at(-90_000_000)), remind()]);
    const [reminder] = ofType(r, 'consultation.reminder-issued');
    expect(reminder!.data.pending).toEqual(['KAZ', 'RUS']);
  });

  it('a later comment replaces the nil return; the history keeps both', () => {
    const r = run([open(), noComments('KAZ', at(-5_000)), comment('KAZ', at(-4_000))]);
    expect(viewOf(r.state!).responses.KAZ).toBe('commented');
    expect(r.events.map((e) => e.type)).toEqual([
      'consultation.opened',
      'consultation.no-comments-submitted',
      'consultation.comment-submitted',
    ]);
    // asOf between the two shows the nil return.
    expect(consultationAsOf(r.events, at(-4_500))!.responses.KAZ).toBe('no-comments');
  });

  it('is refused while the member state has comments, after the deadline, and from non-addressees', () => {
    const r = run([open(), comment('KHM', at(-5_000)), noComments('KHM', at(-4_000)), noComments('THA', at(1)), noComments('MNG', at(-1))]);
    expect(r.decisions[2]).toMatchObject({ ok: false, error: { code: 'already-commented' } });
    expect(r.decisions[3]).toMatchObject({ ok: false, error: { code: 'consultation-closed' } });
    expect(r.decisions[4]).toMatchObject({ ok: false, error: { code: 'not-an-addressee' } });
  });

  it('the closing decision lists nil returns apart from comments', () => {
    const r = run([open(), noComments('KHM', at(-5_000)), comment('THA', at(-4_000)), close()]);
    const [closed] = ofType(r, 'consultation.closed');
    expect(closed).toMatchObject({ version: 2, data: { responded: ['THA'], noComments: ['KHM'], pending: ['KAZ', 'RUS'], procedure: 'comments' } });
    expect(closed!.data.silence).toBeUndefined();
  });

  it('received by the deadline but processed after the closing: accepted (the receipt-time rule), and follows the closing', () => {
    const r = run([open(), comment('THA', at(-4_000)), close(), noComments('KHM', at(-1_500)), noComments('KAZ', at(1))]);
    expect(r.decisions[3]).toMatchObject({ ok: true, replayed: false, receipt: { memberState: 'KHM', status: 'no-comments', receivedAt: at(-1_500) } });
    expect(r.decisions[4]).toMatchObject({ ok: false, error: { code: 'consultation-closed' } });
    // The closing records what was known when it was decided; the nil return follows it in the history.
    expect(ofType(r, 'consultation.closed')[0]!.data).toMatchObject({ responded: ['THA'], noComments: [], pending: ['KHM', 'KAZ', 'RUS'] });
    expect(r.events.map((e) => e.type).slice(-2)).toEqual(['consultation.closed', 'consultation.no-comments-submitted']);
    const view = viewOf(r.state!);
    expect(view).toMatchObject({ status: 'closed', responses: { KHM: 'no-comments', THA: 'commented', KAZ: 'pending' }, noCommentsCount: 1 });
    // A retry after the closing gets the first receipt.
    const again = decide(r.state, noComments('KHM', at(-1_000)));
    expect(again).toMatchObject({ ok: true, replayed: true, events: [], receipt: { receivedAt: at(-1_500) } });
  });

  it('property: an on-time comment or nil return is never refused as closed, wherever the closing falls; a late one always is', () => {
    const step = fc.record({
      kind: fc.constantFrom('comment', 'no-comments'),
      memberState: fc.constantFrom(...ADDRESSEES),
      offsetMs: fc.integer({ min: -100_000, max: 100_000 }),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 20 }), fc.nat(), (steps, closeAt) => {
        // Processed in any order (retries, a broker restart), the closing anywhere among them.
        const commands: ConsultationCommand[] = steps.map((s) =>
          s.kind === 'comment' ? comment(s.memberState, at(s.offsetMs)) : noComments(s.memberState, at(s.offsetMs)),
        );
        const position = closeAt % (commands.length + 1);
        const r = run([open(), ...commands.slice(0, position), close(at(100_001)), ...commands.slice(position)]);
        const decisions = [...r.decisions.slice(1, 1 + position), ...r.decisions.slice(2 + position)];
        steps.forEach((s, i) => {
          const d = decisions[i]!;
          // A repeated nil return gets the first one's receipt whenever it comes (idempotency before time).
          if (d.ok && d.replayed) expect(s.kind).toBe('no-comments');
          else if (s.offsetMs > 0) expect(d).toMatchObject({ ok: false, error: { code: 'consultation-closed' } });
          else if (!d.ok) expect(d.error.code).toBe('already-commented');
        });
        expect(r.state!.status).toBe('closed');
      }),
      { numRuns: 300 },
    );
  });

  it('property: a nil return never counts as a comment', () => {
    const step = fc.record({
      kind: fc.constantFrom('comment', 'no-comments', 'withdraw'),
      memberState: fc.constantFrom(...ADDRESSEES),
      offsetMs: fc.integer({ min: -1_000_000, max: 1_000 }),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const commands: ConsultationCommand[] = [open()];
        const ids = new Map<string, string[]>();
        for (const s of steps.sort((a, b) => a.offsetMs - b.offsetMs)) {
          if (s.kind === 'comment') {
            const c = comment(s.memberState, at(s.offsetMs));
            ids.set(s.memberState, [...(ids.get(s.memberState) ?? []), c.data.commentId]);
            commands.push(c);
          } else if (s.kind === 'no-comments') commands.push(noComments(s.memberState, at(s.offsetMs)));
          else {
            const id = ids.get(s.memberState)?.pop();
            if (id) commands.push(withdraw(s.memberState, id, at(s.offsetMs)));
          }
        }
        commands.push(close());
        const r = run(commands);
        const state = r.state!;
        const view = viewOf(state);
        const active = [...state.comments.values()].filter((c) => !c.withdrawn);
        expect(view.commentCount).toBe(active.length);
        for (const code of ADDRESSEES) {
          const own = active.filter((c) => c.memberState === code).length;
          if (view.responses[code] === 'no-comments') expect(own).toBe(0);
          expect(view.responses[code] === 'commented').toBe(own > 0);
        }
        const [closed] = ofType(r, 'consultation.closed');
        for (const code of closed!.data.noComments) expect(closed!.data.responded).not.toContain(code);
        expect(closed!.data.responded).toEqual(ADDRESSEES.filter((code) => active.some((c) => c.memberState === code)));
      }),
      { numRuns: 200 },
    );
  });
});

describe('silence procedure', () => {
  it('kept: deemed adopted at the deadline', () => {
    const r = run([open('silence'), close()]);
    const [closed] = ofType(r, 'consultation.closed');
    expect(closed!.data).toMatchObject({ procedure: 'silence', silence: { outcome: 'deemed-adopted', brokenBy: [] } });
    expect(viewOf(r.state!).silence).toEqual({ outcome: 'deemed-adopted', brokenBy: [] });
  });

  it('broken by one addressee: silence-broken with who and when; idempotent; a break after the deadline is refused', () => {
    const r = run([
      open('silence'),
      breakSilence('RUS', at(-1_000)),
      breakSilence('RUS', at(-500), 'again'),
      breakSilence('THA', at(1)),
      close(),
    ]);
    expect(r.decisions[2]).toMatchObject({ ok: true, replayed: true, receipt: { receivedAt: at(-1_000) } });
    expect(r.decisions[3]).toMatchObject({ ok: false, error: { code: 'consultation-closed' } });
    const [closed] = ofType(r, 'consultation.closed');
    expect(closed!.data.silence).toEqual({
      outcome: 'silence-broken',
      brokenBy: [{ memberState: 'RUS', reason: 'We object to rule 12', receivedAt: at(-1_000) }],
    });
  });

  it('reminders skip the addressees that broke silence: they have answered', () => {
    const r = run([open('silence'), breakSilence('RUS', at(-90_000_000)), remind()]);
    expect(ofType(r, 'consultation.reminder-issued')[0]!.data.pending).toEqual(['KHM', 'THA', 'KAZ']);
  });

  it('only under silence procedure, only addressees', () => {
    const r = run([open('comments'), breakSilence('RUS', at(-1_000))]);
    expect(r.decisions[1]).toMatchObject({ ok: false, error: { code: 'not-under-silence-procedure' } });
    const s = run([open('silence'), breakSilence('MNG', at(-1_000))]);
    expect(s.decisions[1]).toMatchObject({ ok: false, error: { code: 'not-an-addressee' } });
  });

  it('a revision resets the silence only when the Secretariat says so', () => {
    const kept = run([open('silence'), breakSilence('RUS', at(-5_000)), issueVersion({}, at(-4_000)), close()]);
    expect(ofType(kept, 'consultation.closed')[0]!.data.silence!.outcome).toBe('silence-broken');
    const reset = run([open('silence'), breakSilence('RUS', at(-5_000)), issueVersion({ resetSilence: true }, at(-4_000)), close()]);
    expect(ofType(reset, 'consultation.document-version-issued')[0]!.data.resetsSilence).toBe(true);
    expect(ofType(reset, 'consultation.closed')[0]!.data.silence).toEqual({ outcome: 'deemed-adopted', brokenBy: [] });
  });

  it('property: silence is broken iff some addressee broke it by the deadline', () => {
    const attempt = fc.record({
      memberState: fc.constantFrom(...ADDRESSEES, 'MNG'),
      offsetMs: fc.integer({ min: -100_000, max: 100_000 }),
    });
    fc.assert(
      fc.property(fc.array(attempt, { maxLength: 12 }), (attempts) => {
        const sorted = [...attempts].sort((a, b) => a.offsetMs - b.offsetMs);
        const r = run([open('silence'), ...sorted.map((a) => breakSilence(a.memberState, at(a.offsetMs))), close(at(200_000))]);
        const [closed] = ofType(r, 'consultation.closed');
        const inTime = sorted.filter((a) => ADDRESSEES.includes(a.memberState) && a.offsetMs <= 0);
        expect(closed!.data.silence!.outcome).toBe(inTime.length > 0 ? 'silence-broken' : 'deemed-adopted');
        expect(closed!.data.silence!.brokenBy.map((b) => b.memberState)).toEqual([...new Set(inTime.map((a) => a.memberState))]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('silence breaks processed after the closing (the receipt-time rule)', () => {
  it('an on-time break that reaches the writer after a deemed-adopted closing is accepted and revises the outcome', () => {
    const r = run([open('silence'), close(), breakSilence('RUS', at(-1_500), 'Rule 12 needs consensus')]);
    expect(ofType(r, 'consultation.closed')[0]!.data.silence).toEqual({ outcome: 'deemed-adopted', brokenBy: [] });
    const decision = r.decisions[2]!;
    expect(decision).toMatchObject({
      ok: true,
      replayed: false,
      receipt: { memberState: 'RUS', status: 'silence-broken', reason: 'Rule 12 needs consensus', receivedAt: at(-1_500) },
    });
    // One decision: the break and the revision of the closing's outcome, in that order.
    expect(decision.ok && decision.events.map((e) => e.type)).toEqual(['consultation.silence-broken', 'consultation.silence-outcome-revised']);
    const [revised] = ofType(r, 'consultation.silence-outcome-revised');
    const brk = { memberState: 'RUS', reason: 'Rule 12 needs consensus', receivedAt: at(-1_500) };
    expect(revised!.data).toEqual({
      previousOutcome: 'deemed-adopted',
      outcome: 'silence-broken',
      brokenBy: [brk],
      ...brk,
      cause: 'processed-after-closing',
      deadline: DEADLINE,
      closedAt: at(2_000),
      documentVersion: 1,
    });
    expect(viewOf(r.state!)).toMatchObject({ status: 'closed', silence: { outcome: 'silence-broken', brokenBy: [brk] } });
    // asOf: deemed adopted from the closing until the revision, silence broken after it.
    const closedAt = r.events.find((e) => e.type === 'consultation.closed')!.occurredAt;
    const timed = r.events.map((e) => (e.type === 'consultation.silence-broken' || e.type === 'consultation.silence-outcome-revised' ? { ...e, occurredAt: at(5_000) } : e));
    expect(consultationAsOf(timed, closedAt)!.silence).toEqual({ outcome: 'deemed-adopted', brokenBy: [] });
    expect(consultationAsOf(timed, at(5_000))!.silence).toEqual({ outcome: 'silence-broken', brokenBy: [brk] });
    // A retried closing answers with the outcome in force.
    expect(decide(r.state, close(at(9_000)))).toMatchObject({ ok: true, replayed: true, receipt: { silence: { outcome: 'silence-broken', brokenBy: [brk] } } });
  });

  it('a retry of the break adds nothing; a second on-time break is recorded without a second revision', () => {
    const r = run([open('silence'), close(), breakSilence('RUS', at(-1_500)), breakSilence('RUS', at(-1_000), 'again'), breakSilence('KAZ', at(0))]);
    expect(r.decisions[3]).toMatchObject({ ok: true, replayed: true, events: [], receipt: { receivedAt: at(-1_500) } });
    expect(r.decisions[4]).toMatchObject({ ok: true, replayed: false });
    expect(ofType(r, 'consultation.silence-outcome-revised')).toHaveLength(1);
    expect(ofType(r, 'consultation.silence-broken').map((e) => e.data.memberState)).toEqual(['RUS', 'KAZ']);
    expect(viewOf(r.state!).silence).toMatchObject({ outcome: 'silence-broken', brokenBy: [{ memberState: 'RUS' }, { memberState: 'KAZ' }] });
  });

  it('a break already counted at the closing: a later on-time one is recorded, the outcome needs no revision', () => {
    const r = run([open('silence'), breakSilence('THA', at(-5_000)), close(), breakSilence('RUS', at(-1_500))]);
    expect(ofType(r, 'consultation.closed')[0]!.data.silence!.outcome).toBe('silence-broken');
    expect(r.decisions[3]).toMatchObject({ ok: true, replayed: false });
    expect(ofType(r, 'consultation.silence-outcome-revised')).toHaveLength(0);
    expect(viewOf(r.state!).silence).toMatchObject({ outcome: 'silence-broken', brokenBy: [{ memberState: 'THA' }, { memberState: 'RUS' }] });
  });

  it('a break received after the deadline stays refused, and the outcome stands', () => {
    const r = run([open('silence'), close(), breakSilence('RUS', at(1))]);
    expect(r.decisions[2]).toMatchObject({ ok: false, error: { code: 'consultation-closed' } });
    expect(ofType(r, 'consultation.silence-outcome-revised')).toHaveLength(0);
    expect(viewOf(r.state!).silence).toEqual({ outcome: 'deemed-adopted', brokenBy: [] });
  });

  it('property: a silence is broken iff some addressee broke it before the deadline, however late it was processed', () => {
    const attempt = fc.record({
      memberState: fc.constantFrom(...ADDRESSEES, 'MNG'),
      offsetMs: fc.integer({ min: -100_000, max: 100_000 }),
    });
    fc.assert(
      fc.property(fc.array(attempt, { maxLength: 12 }), fc.nat(), (attempts, closeAt) => {
        // Processed in any order (a retry, a broker restart), the closing anywhere among them.
        const position = closeAt % (attempts.length + 1);
        const breaks = attempts.map((a) => breakSilence(a.memberState, at(a.offsetMs)));
        const r = run([open('silence'), ...breaks.slice(0, position), close(at(200_000)), ...breaks.slice(position)]);
        const inTime = attempts.filter((a) => ADDRESSEES.includes(a.memberState) && a.offsetMs <= 0);
        const broken = inTime.length > 0 ? 'silence-broken' : 'deemed-adopted';
        const view = viewOf(r.state!);
        expect(view.silence!.outcome).toBe(broken);
        expect(view.silence!.brokenBy.map((b) => b.memberState)).toEqual([...new Set(inTime.map((a) => a.memberState))]);
        // asOf replays the same events through the same code: the same outcome.
        expect(consultationAsOf(r.events, at(300_000))!.silence).toEqual(view.silence);
        // The closing says what was known then; a revision exactly when it said deemed-adopted and was wrong.
        const [closed] = ofType(r, 'consultation.closed');
        const before = attempts.slice(0, position).filter((a) => ADDRESSEES.includes(a.memberState) && a.offsetMs <= 0);
        expect(closed!.data.silence!.outcome).toBe(before.length > 0 ? 'silence-broken' : 'deemed-adopted');
        const revisions = ofType(r, 'consultation.silence-outcome-revised');
        expect(revisions).toHaveLength(before.length === 0 && inTime.length > 0 ? 1 : 0);
        // Every break received after the deadline was refused, whenever it was processed.
        attempts.forEach((a, i) => {
          const d = r.decisions[1 + i + (i >= position ? 1 : 0)]!;
          if (a.offsetMs > 0 && ADDRESSEES.includes(a.memberState) && !(d.ok && d.replayed))
            expect(d).toMatchObject({ ok: false, error: { code: 'consultation-closed' } });
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('corrigenda and revisions', () => {
  it('numbers Corr. and Rev. apart; comments record the version they answered', () => {
    const r = run([
      open(),
      comment('KHM', at(-10_000)),
      issueVersion({ kind: 'corrigendum' }, at(-9_000)),
      issueVersion({}, at(-8_000)),
      comment('THA', at(-7_000)),
    ]);
    const versions = ofType(r, 'consultation.document-version-issued').map((e) => e.data.symbol);
    expect(versions).toEqual(['IO/218/Corr.1', 'IO/218/Rev.1']);
    const comments = ofType(r, 'consultation.comment-submitted').map((e) => [e.data.memberState, e.data.documentVersion]);
    expect(comments).toEqual([
      ['KHM', 1],
      ['THA', 3],
    ]);
    const view = viewOf(r.state!);
    expect(view.documentVersion).toMatchObject({ version: 3, symbol: 'IO/218/Rev.1', kind: 'revision' });
    expect(view.documents.map((d) => d.title)).toContain('Revised draft rules of procedure');
    // Before the revision, asOf shows the original text in force.
    expect(consultationAsOf(r.events, at(-9_500))!.documentVersion.symbol).toBe('IO/218');
  });

  it('a revision with a new deadline resets it (recorded, and as deadline-extended); otherwise the deadline stands', () => {
    const later = at(86_400_000);
    const r = run([open(), issueVersion({ deadline: later }, at(-5_000))]);
    expect(ofType(r, 'consultation.document-version-issued')[0]!.data).toMatchObject({ resetsDeadline: true, deadline: later });
    expect(ofType(r, 'consultation.deadline-extended')[0]!.data).toMatchObject({ previousDeadline: DEADLINE, deadline: later });
    expect(r.state!.deadline).toBe(later);
    const plain = run([open(), issueVersion({}, at(-5_000))]);
    expect(ofType(plain, 'consultation.document-version-issued')[0]!.data).toMatchObject({ resetsDeadline: false, deadline: DEADLINE });
    expect(ofType(plain, 'consultation.deadline-extended')).toHaveLength(0);
  });

  it('property: every comment records the document version in force when it was received', () => {
    const step = fc.record({ issue: fc.boolean(), memberState: fc.constantFrom(...ADDRESSEES), offsetMs: fc.integer({ min: -100_000, max: -1 }) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 20 }), (steps) => {
        const sorted = [...steps].sort((a, b) => a.offsetMs - b.offsetMs);
        const commands: ConsultationCommand[] = [open()];
        const expected: number[] = [];
        let version = 1;
        for (const s of sorted) {
          if (s.issue) {
            commands.push(issueVersion({ kind: version % 2 ? 'corrigendum' : 'revision' }, at(s.offsetMs)));
            version += 1;
          } else {
            commands.push(comment(s.memberState, at(s.offsetMs)));
            expected.push(version);
          }
        }
        const r = run(commands);
        expect(ofType(r, 'consultation.comment-submitted').map((e) => e.data.documentVersion)).toEqual(expected);
        expect(viewOf(r.state!).documentVersion.version).toBe(version);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses resets on a corrigendum, two originals, and anything after the deadline', () => {
    const r = run([
      open(),
      issueVersion({ kind: 'corrigendum', deadline: at(86_400_000) }, at(-5_000)),
      issueVersion({ documents: [{ language: 'en', title: 'a', original: true }, { language: 'ru', title: 'b', original: true }] }, at(-4_000)),
      issueVersion({}, at(1)),
    ]);
    expect(r.decisions.slice(1).map((d) => (d.ok ? 'ok' : d.error.code))).toEqual([
      'reset-needs-revision',
      'invalid-documents',
      'consultation-closed',
    ]);
  });
});

describe('languages and time zones in views', () => {
  it('Accept-Language picks a translation, falls back to the original, and names the choice', () => {
    const state = run([open()]).state!;
    expect(localizeView(viewOf(state), 'ru').document!.title).toBe('Проект правил процедуры');
    expect(localizeView(viewOf(state), 'ru').language).toBe('ru');
    expect(localizeView(viewOf(state), 'de').language).toBe('en');
    expect(localizeView(viewOf(state), 'de, kk;q=0.5').document!.title).toBe('Рәсімдер ережесінің жобасы');
    expect(localizeView(viewOf(state), undefined).document).toMatchObject({ language: 'en', original: true });
  });

  it("gives each addressee the deadline in its own zone, and reminders name it in local time", () => {
    const r = run([open(), remind()]);
    const view = viewOf(r.state!);
    expect(view.localDeadlines.KAZ).toEqual({
      timeZone: 'Asia/Almaty',
      local: '2023-03-20T18:00:00+06:00',
      text: '20 March 2023, 18:00 Astana time',
    });
    expect(view.localDeadlines.KHM!.text).toBe('20 March 2023, 19:00 Phnom Penh time');
    expect(view.secretariatDeadline!.text).toBe('20 March 2023, 18:00 Astana time');
    const [reminder] = ofType(r, 'consultation.reminder-issued');
    expect(reminder!.data.localDeadlines!.KAZ!.text).toBe('20 March 2023, 18:00 Astana time');
    expect(reminder!.data.localDeadlines!.RUS!.text).toBe('20 March 2023, 15:00 Moscow time');
  });

  it('respondedAndPending splits commented, nil returns and pending', () => {
    const r = run([open(), comment('KHM', at(-1)), noComments('THA', at(-1))]);
    expect(respondedAndPending(r.state!)).toEqual({ responded: ['KHM'], noComments: ['THA'], pending: ['KAZ', 'RUS'] });
  });
});
