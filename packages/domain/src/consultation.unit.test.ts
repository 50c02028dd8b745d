import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ConsultationCommand, ConsultationCommandOf, ConsultationCommandType } from '@consult/contracts';
import { decide, evolve, viewOf, type ConsultationState, type Decision } from './consultation.js';

const ID = '00000000-0000-4000-8000-000000000001';
const OPENED_AT = '2026-01-01T00:00:00.000Z';
const DEADLINE = '2026-02-01T12:00:00+07:00'; // 05:00Z
const DEADLINE_MS = Date.parse(DEADLINE);
const ADDRESSEES = ['KHM', 'THA', 'KAZ'];

let seq = 0;
function command<T extends ConsultationCommandType>(
  type: T,
  data: ConsultationCommandOf<T>['data'],
  receivedAt: string,
  actor = { kind: 'member-state' as const, id: 'KHM' },
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

const open = (receivedAt = OPENED_AT, deadline = DEADLINE): ConsultationCommand =>
  command(
    'consultation.open',
    {
      reference: 'IO/218',
      title: 'Draft rules',
      documents: [{ language: 'en', title: 'Draft' }],
      addressees: ADDRESSEES,
      deadline,
      reminderOffsetsSeconds: [3600, 86400],
      commentVisibility: 'own',
    },
    receivedAt,
    { kind: 'secretariat' as never, id: 'secretariat' },
  );

let uuidCounter = 1000;
const submit = (memberState: string, key: string, body: string, receivedAt: string) =>
  command(
    'consultation.submit-comment',
    {
      commentId: `00000000-0000-4000-9000-${String(uuidCounter++).padStart(12, '0')}`,
      memberState,
      idempotencyKey: key,
      body,
      language: 'en',
      bodyHash: body.padEnd(64, '0').slice(0, 64).replace(/[^0-9a-f]/g, 'a'),
    },
    receivedAt,
  );

/** Applies a decision's events the way the writer does and returns the new state. */
function apply(state: ConsultationState, decision: Decision): ConsultationState {
  if (!decision.ok) return state;
  let next = state;
  for (const event of decision.events) next = evolve(next, { ...event, sequence: (next?.version ?? 0) + 1 });
  return next;
}

function run(commands: ConsultationCommand[]): { state: ConsultationState; decisions: Decision[] } {
  let state: ConsultationState = null;
  const decisions: Decision[] = [];
  for (const c of commands) {
    const d = decide(state, c);
    decisions.push(d);
    state = apply(state, d);
  }
  return { state, decisions };
}

const at = (offsetMs: number): string => new Date(DEADLINE_MS + offsetMs).toISOString();

describe('opening a consultation', () => {
  it('opens with the addressees pending', () => {
    const { state } = run([open()]);
    expect(state && viewOf(state)).toMatchObject({
      status: 'open',
      responses: { KHM: 'pending', THA: 'pending', KAZ: 'pending' },
      commentCount: 0,
      version: 1,
    });
  });

  it('refuses a deadline that is not in the future', () => {
    const d = decide(null, open(DEADLINE, DEADLINE));
    expect(d).toMatchObject({ ok: false, error: { code: 'deadline-not-in-future' } });
  });

  it('refuses unknown member-state codes', () => {
    const c = open();
    (c.data as { addressees: string[] }).addressees = ['KHM', 'XYZ'];
    expect(decide(null, c)).toMatchObject({ ok: false, error: { code: 'unknown-member-state' } });
  });

  it('answers a retried creation with the original receipt and no new event', () => {
    const { state } = run([open()]);
    const again = decide(state, open());
    expect(again).toMatchObject({ ok: true, replayed: true, events: [] });
  });

  it('refuses the same Idempotency-Key (same id) with any other field, not only another reference', () => {
    const { state } = run([open()]);
    const other = open();
    (other.data as { title: string }).title = 'Another title';
    expect(decide(state, other)).toMatchObject({ ok: false, error: { code: 'idempotency-key-reused' } });
    expect(decide(state, open(OPENED_AT, '2030-12-24T17:00:00Z'))).toMatchObject({ ok: false, error: { code: 'idempotency-key-reused' } });
  });
});

describe('comments and the deadline', () => {
  it('accepts a comment received exactly at the deadline and refuses one a millisecond later', () => {
    const { decisions } = run([open(), submit('KHM', 'k1', 'on time', at(0)), submit('THA', 'k2', 'late', at(1))]);
    expect(decisions[1]).toMatchObject({ ok: true, replayed: false });
    expect(decisions[2]).toMatchObject({ ok: false, error: { code: 'consultation-closed' } });
  });

  it('decides by the time of receipt, not by the order of processing', () => {
    // Received in time, processed after a later-received late comment: still accepted.
    const { decisions } = run([open(), submit('THA', 'late', 'late', at(5)), submit('KHM', 'early', 'early', at(-5))]);
    expect(decisions[1]?.ok).toBe(false);
    expect(decisions[2]?.ok).toBe(true);
  });

  it('refuses member states that are not addressees', () => {
    const { decisions } = run([open(), submit('RUS', 'k', 'hello', at(-1000))]);
    expect(decisions[1]).toMatchObject({ ok: false, error: { code: 'not-an-addressee' } });
  });

  it('returns the same receipt for the same idempotency key and body, and refuses another body', () => {
    const first = submit('KHM', 'same', 'body', at(-1000));
    const { state, decisions } = run([open(), first]);
    const retry = decide(state, submit('KHM', 'same', 'body', at(-500)));
    const conflict = decide(state, submit('KHM', 'same', 'other body', at(-500)));
    expect(retry).toMatchObject({ ok: true, replayed: true, events: [] });
    expect(retry.ok && retry.receipt).toEqual(decisions[1]?.ok && decisions[1].receipt);
    expect(conflict).toMatchObject({ ok: false, error: { code: 'idempotency-key-reused' } });
  });

  it('scopes idempotency keys to the member state', () => {
    const { decisions } = run([open(), submit('KHM', 'k', 'a', at(-10)), submit('THA', 'k', 'b', at(-9))]);
    expect(decisions.map((d) => d.ok)).toEqual([true, true, true]);
  });

  it('numbers tracking numbers per member state and never reuses them', () => {
    const s1 = submit('KHM', 'a', 'x', at(-10));
    const { state, decisions } = run([open(), s1]);
    const commentId = decisions[1]?.ok ? String(decisions[1].receipt.commentId) : '';
    const withdraw = command('consultation.withdraw-comment', { commentId, memberState: 'KHM' }, at(-9));
    const after = apply(state, decide(state, withdraw));
    const second = decide(after, submit('KHM', 'b', 'y', at(-8)));
    expect(decisions[1]?.ok && decisions[1].receipt.trackingNumber).toBe('IO/218/KHM/1');
    expect(second.ok && second.receipt.trackingNumber).toBe('IO/218/KHM/2');
  });
});

describe('amendments, withdrawals and extensions', () => {
  it('keeps revisions and lets only the owner amend or withdraw, before the deadline', () => {
    const { state, decisions } = run([open(), submit('KHM', 'a', 'x', at(-100))]);
    const commentId = decisions[1]?.ok ? String(decisions[1].receipt.commentId) : '';
    const amend = (ms: string, when: string) =>
      command('consultation.amend-comment', { commentId, memberState: ms, body: 'y', language: 'fr', bodyHash: 'b'.repeat(64) }, when);
    expect(decide(state, amend('THA', at(-50)))).toMatchObject({ ok: false, error: { code: 'not-comment-owner' } });
    expect(decide(state, amend('KHM', at(1)))).toMatchObject({ ok: false, error: { code: 'consultation-closed' } });
    const amended = decide(state, amend('KHM', at(-50)));
    expect(amended).toMatchObject({ ok: true, receipt: { revision: 2 } });
  });

  it('makes a member state pending again when its only comment is withdrawn', () => {
    const { state, decisions } = run([open(), submit('KHM', 'a', 'x', at(-100))]);
    expect(state && viewOf(state).responses.KHM).toBe('commented');
    const commentId = decisions[1]?.ok ? String(decisions[1].receipt.commentId) : '';
    const after = apply(state, decide(state, command('consultation.withdraw-comment', { commentId, memberState: 'KHM' }, at(-50))));
    expect(after && viewOf(after)).toMatchObject({ responses: { KHM: 'pending' }, commentCount: 0 });
  });

  it('extends only to a later deadline, and comments are then on time', () => {
    const { state } = run([open()]);
    const sooner = command('consultation.extend-deadline', { deadline: at(-1), reason: 'r' }, at(-1000));
    const later = command('consultation.extend-deadline', { deadline: at(86_400_000), reason: 'r' }, at(-1000));
    expect(decide(state, sooner)).toMatchObject({ ok: false, error: { code: 'deadline-not-later' } });
    const extended = apply(state, decide(state, later));
    expect(decide(extended, submit('KHM', 'a', 'x', at(3_600_000)))).toMatchObject({ ok: true });
    // The same extension again is a retry: the first receipt, no event; another reason is a new request.
    expect(decide(extended, later)).toMatchObject({ ok: true, replayed: true, events: [], receipt: { previousDeadline: DEADLINE, deadline: at(86_400_000) } });
    const otherReason = command('consultation.extend-deadline', { deadline: at(86_400_000), reason: 'other' }, at(-1000));
    expect(decide(extended, otherReason)).toMatchObject({ ok: false, error: { code: 'deadline-not-later' } });
  });

  it('adds no revision when a comment is amended to the text it already has', () => {
    const { state, decisions } = run([open(), submit('KHM', 'a', 'x', at(-100))]);
    const commentId = decisions[1]?.ok ? String(decisions[1].receipt.commentId) : '';
    const same = decisions[1]?.ok ? (state?.comments.get(commentId)?.bodyHash ?? '') : '';
    const amend = (hash: string) => command('consultation.amend-comment', { commentId, memberState: 'KHM', body: 'x', language: 'en', bodyHash: hash }, at(-50));
    expect(decide(state, amend(same))).toMatchObject({ ok: true, replayed: true, events: [], receipt: { revision: 1 } });
    expect(decide(state, amend('c'.repeat(64)))).toMatchObject({ ok: true, replayed: false, receipt: { revision: 2 } });
  });

  it('closes only once the deadline has passed, and a second close is a replay', () => {
    const { state } = run([open(), submit('KHM', 'a', 'x', at(-100))]);
    const early = command('consultation.close', {}, at(-1), { kind: 'system' as never, id: 'deadlines' });
    expect(decide(state, early)).toMatchObject({ ok: false, error: { code: 'deadline-not-reached' } });
    const close = decide(state, command('consultation.close', {}, at(0), { kind: 'system' as never, id: 'deadlines' }));
    expect(close).toMatchObject({ ok: true, receipt: { responded: ['KHM'], pending: ['THA', 'KAZ'] } });
    const closed = apply(state, close);
    expect(decide(closed, command('consultation.close', {}, at(10), { kind: 'system' as never, id: 'd' }))).toMatchObject({
      ok: true,
      replayed: true,
      events: [],
    });
  });
});

describe('the receipt-time rule against a late closing', () => {
  const system = { kind: 'system' as never, id: 'deadlines' };
  it('accepts a comment received before the deadline that reaches the writer after the closing', () => {
    const { state } = run([open(), submit('KHM', 'a', 'x', at(-100))]);
    const closed = apply(state, decide(state, command('consultation.close', {}, at(2_000), system)));
    expect(closed?.status).toBe('closed');
    // Received 1.5 s before the deadline, processed after the closing (a broker restart held it up).
    const late = decide(closed, submit('THA', 'b', 'y', at(-1_500)));
    expect(late).toMatchObject({ ok: true, receipt: { receivedAt: at(-1_500) } });
    expect(viewOf(apply(closed, late)!).responses).toMatchObject({ KHM: 'commented', THA: 'commented', KAZ: 'pending' });
    // One received after the deadline is refused, closed or not.
    expect(decide(closed, submit('KAZ', 'c', 'z', at(1)))).toMatchObject({ ok: false, error: { code: 'consultation-closed' } });
  });

  it('accepts amendments and withdrawals received in time after the closing, but no extension of a closed consultation', () => {
    const first = submit('KHM', 'a', 'x', at(-100));
    const { state } = run([open(), first]);
    const closed = apply(state, decide(state, command('consultation.close', {}, at(2_000), system)));
    const commentId = (first.data as { commentId: string }).commentId;
    const amend = command('consultation.amend-comment', { commentId, memberState: 'KHM', body: 'x2', language: 'en', bodyHash: 'b'.repeat(64) }, at(-10));
    expect(decide(closed, amend)).toMatchObject({ ok: true });
    const extend = command('consultation.extend-deadline', { deadline: at(86_400_000), reason: 'late' }, at(-5), { kind: 'secretariat' as never, id: 's' });
    expect(decide(closed, extend)).toMatchObject({ ok: false, error: { code: 'consultation-closed' } });
  });
});

describe('invariants (property-based)', () => {
  const memberState = fc.constantFrom('KHM', 'THA', 'KAZ', 'RUS');
  const action = fc.oneof(
    fc.record({ kind: fc.constant('submit' as const), ms: memberState, key: fc.constantFrom('a', 'b', 'c'), body: fc.constantFrom('x', 'y'), offset: fc.integer({ min: -10_000, max: 10_000 }) }),
    fc.record({ kind: fc.constant('withdraw' as const), ms: memberState, pick: fc.nat(), offset: fc.integer({ min: -10_000, max: 10_000 }) }),
  );

  it('accepts a new comment exactly when the sender is an addressee and it was received by the deadline', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 40 }), (actions) => {
        let state = apply(null, decide(null, open()));
        const ids: string[] = [];
        for (const a of actions) {
          if (a.kind === 'submit') {
            const known = state?.idempotency.has(`${a.ms} ${a.key}`);
            const d = decide(state, submit(a.ms, a.key, a.body, at(a.offset)));
            if (!known) expect(d.ok).toBe(ADDRESSEES.includes(a.ms) && a.offset <= 0);
            if (d.ok && !d.replayed) ids.push(String(d.receipt.commentId));
            state = apply(state, d);
          } else if (ids.length > 0) {
            const id = ids[a.pick % ids.length]!;
            state = apply(state, decide(state, command('consultation.withdraw-comment', { commentId: id, memberState: a.ms }, at(a.offset))));
          }
        }
        // "commented" iff the member state has at least one comment that is not withdrawn.
        const view = viewOf(state!);
        for (const ms of ADDRESSEES) {
          const active = [...state!.comments.values()].filter((c) => c.memberState === ms && !c.withdrawn).length;
          expect(view.responses[ms]).toBe(active > 0 ? 'commented' : 'pending');
        }
        expect(view.commentCount).toBe([...state!.comments.values()].filter((c) => !c.withdrawn).length);
      }),
      { numRuns: 200 },
    );
  });

  it('never mutates the state it decides on', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 20 }), (actions) => {
        let state = apply(null, decide(null, open()));
        for (const a of actions) {
          if (a.kind !== 'submit') continue;
          const before = JSON.stringify(viewOf(state!)) + state!.comments.size + state!.idempotency.size;
          const d = decide(state, submit(a.ms, a.key, a.body, at(a.offset)));
          expect(JSON.stringify(viewOf(state!)) + state!.comments.size + state!.idempotency.size).toBe(before);
          state = apply(state, d);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('reminders', () => {
  const remind = (offsetSeconds: number, deadline: string, receivedAt: string) =>
    command('consultation.issue-reminder', { offsetSeconds, deadline }, receivedAt, { kind: 'system' as never, id: 'deadlines' });

  it('issues a reminder once per deadline and offset, naming only the pending addressees', () => {
    const { state } = run([open(), submit('KHM', 'a', 'x', at(-7_200_000))]);
    const first = decide(state, remind(3600, DEADLINE, at(-3_600_000)));
    expect(first).toMatchObject({ ok: true, replayed: false, events: [{ type: 'consultation.reminder-issued', data: { pending: ['THA', 'KAZ'] } }] });
    const after = apply(state, first);
    expect(decide(after, remind(3600, DEADLINE, at(-3_000_000)))).toMatchObject({ ok: true, replayed: true, events: [] });
  });

  it('refuses a reminder before it is due, for a moved deadline, or once closed', () => {
    const { state } = run([open()]);
    expect(decide(state, remind(3600, DEADLINE, at(-3_600_001)))).toMatchObject({ ok: false, error: { code: 'reminder-not-due' } });
    const extended = apply(state, decide(state, command('consultation.extend-deadline', { deadline: at(86_400_000), reason: 'r' }, at(-10))));
    expect(decide(extended, remind(3600, DEADLINE, at(-10)))).toMatchObject({ ok: false, error: { code: 'reminder-stale' } });
    // evolve takes ownership of its input state: start again from a fresh one.
    const fresh = run([open()]).state;
    const closed = apply(fresh, decide(fresh, command('consultation.close', {}, at(0), { kind: 'system' as never, id: 'd' })));
    expect(decide(closed, remind(60, DEADLINE, at(1)))).toMatchObject({ ok: false, error: { code: 'consultation-closed' } });
  });
});
