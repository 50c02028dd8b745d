import { describe, expect, it } from 'vitest';
import type { CsoCommand, CsoCommandOf, CsoCommandType } from '@consult/contracts';
import { csoStatusAt, decideCso, evolveCso, type CsoDecision, type CsoState } from './statements.js';

const CSO = '00000000-0000-4000-8000-00000000c501';
const ACCREDITED_AT = '2026-01-01T00:00:00.000Z';
const UNTIL = '2026-06-30T23:59:59+07:00'; // 16:59:59Z
const UNTIL_MS = Date.parse(UNTIL);
const at = (offsetMs: number): string => new Date(UNTIL_MS + offsetMs).toISOString();
const HASH = 'a'.repeat(64);

let seq = 0;
function command<T extends CsoCommandType>(
  type: T,
  data: CsoCommandOf<T>['data'],
  receivedAt: string,
  actor: { kind: 'secretariat' | 'cso' | 'standing-committee'; id: string } = { kind: 'secretariat', id: 'secretariat' },
): CsoCommandOf<T> {
  seq += 1;
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    type,
    version: 1,
    key: CSO,
    receivedAt,
    correlationId: 'test',
    actor,
    data,
  } as unknown as CsoCommandOf<T>;
}

const accredit = (receivedAt = ACCREDITED_AT, accreditedUntil = UNTIL, name = 'Friends of the Steppe') =>
  command(
    'cso.accredit',
    {
      name,
      linkBody: 'Standing Committee',
      contact: { name: 'A. Contact', email: 'contact@example.org' },
      accreditedUntil,
      keyId: 'cso-key1',
      keyHash: HASH,
    },
    receivedAt,
  );

let statementCounter = 1;
const submit = (key: string, body: string, receivedAt: string) =>
  command(
    'cso.submit-statement',
    {
      statementId: `00000000-0000-4000-9000-${String(statementCounter++).padStart(12, '0')}`,
      idempotencyKey: key,
      subject: 'Water rights',
      body,
      language: 'en',
      bodyHash: body.padEnd(64, '0').slice(0, 64).replace(/[^0-9a-f]/g, 'b'),
    },
    receivedAt,
    { kind: 'cso', id: CSO },
  );

const review = (statementId: string, receivedAt = at(-500)) => command('cso.review-statement', { statementId }, receivedAt);
const forward = (statementId: string, receivedAt = at(-400)) =>
  command('cso.forward-statement', { statementId, note: 'For item 4' }, receivedAt);
const giveBack = (statementId: string, receivedAt = at(-400)) =>
  command('cso.return-statement', { statementId, reasons: 'Outside the mandate' }, receivedAt);
const acknowledge = (statementId: string, receivedAt = at(-300)) =>
  command('cso.acknowledge-statement', { statementId }, receivedAt, { kind: 'standing-committee', id: 'standing-committee' });

function apply(state: CsoState, decision: CsoDecision): CsoState {
  if (!decision.ok) return state;
  let next = state;
  for (const event of decision.events) next = evolveCso(next, { ...event, sequence: (next?.version ?? 0) + 1 });
  return next;
}

function run(commands: CsoCommand[]): { state: CsoState; decisions: CsoDecision[] } {
  let state: CsoState = null;
  const decisions: CsoDecision[] = [];
  for (const c of commands) {
    const d = decideCso(state, c);
    decisions.push(d);
    state = apply(state, d);
  }
  return { state, decisions };
}

const idOf = (d: CsoDecision | undefined): string => (d?.ok ? String(d.receipt.statementId) : '');

describe('accreditation', () => {
  it('accredits an organisation with its key until the given date', () => {
    const { state, decisions } = run([accredit()]);
    expect(decisions[0]).toMatchObject({ ok: true, replayed: false, events: [{ type: 'cso.accredited' }] });
    expect(state).toMatchObject({ id: CSO, accreditedUntil: UNTIL, revoked: false, keyHash: HASH, version: 1 });
  });

  it('refuses an accreditation that ends before it starts', () => {
    expect(decideCso(null, accredit(UNTIL, UNTIL))).toMatchObject({ ok: false, error: { code: 'accreditation-not-in-future' } });
  });

  it('answers a retried accreditation without a second event, and refuses another request on the same Idempotency-Key', () => {
    const { state } = run([accredit()]);
    expect(decideCso(state, accredit())).toMatchObject({ ok: true, replayed: true, events: [] });
    expect(decideCso(state, accredit(ACCREDITED_AT, UNTIL, 'Other'))).toMatchObject({ ok: false, error: { code: 'idempotency-key-reused' } });
    // Any field counts, not only the name: another end date is another request.
    expect(decideCso(state, accredit(ACCREDITED_AT, '2031-06-30T00:00:00.000Z'))).toMatchObject({ ok: false, error: { code: 'idempotency-key-reused' } });
  });

  it('is accredited up to and including accreditedUntil, lapsed a millisecond later', () => {
    const { state } = run([accredit()]);
    expect(state && csoStatusAt(state, at(0))).toBe('accredited');
    expect(state && csoStatusAt(state, at(1))).toBe('lapsed');
  });

  it('renews a lapsed accreditation, refuses a renewal into the past and a renewal after revocation', () => {
    const later = at(365 * 86_400_000);
    const { state, decisions } = run([accredit(), command('cso.renew-accreditation', { accreditedUntil: later }, at(1000))]);
    expect(decisions[1]).toMatchObject({ ok: true, events: [{ type: 'cso.accreditation-renewed' }] });
    expect(state?.accreditedUntil).toBe(later);
    expect(decideCso(state, command('cso.renew-accreditation', { accreditedUntil: at(500) }, at(1000)))).toMatchObject({
      ok: false,
      error: { code: 'accreditation-not-in-future' },
    });
    const revoked = apply(state, decideCso(state, command('cso.revoke-accreditation', { reason: 'x' }, at(2000))));
    expect(decideCso(revoked, command('cso.renew-accreditation', { accreditedUntil: at(2 * 365 * 86_400_000) }, at(3000)))).toMatchObject({
      ok: false,
      error: { code: 'cso-revoked' },
    });
  });

  it('revokes once; a retried revocation is answered without a second event', () => {
    const { state, decisions } = run([accredit(), command('cso.revoke-accreditation', { reason: 'Misconduct' }, at(-10))]);
    expect(decisions[1]).toMatchObject({ ok: true, events: [{ type: 'cso.accreditation-revoked', data: { keyId: 'cso-key1' } }] });
    expect(state && csoStatusAt(state, at(-5))).toBe('revoked');
    expect(decideCso(state, command('cso.revoke-accreditation', { reason: 'again' }, at(-1)))).toMatchObject({
      ok: true,
      replayed: true,
      events: [],
    });
  });
});

describe('statements', () => {
  it('accepts a statement received exactly at accreditedUntil and refuses one a millisecond later', () => {
    const { decisions } = run([accredit(), submit('k1', 'on time', at(0)), submit('k2', 'late', at(1))]);
    expect(decisions[1]).toMatchObject({ ok: true, receipt: { status: 'submitted', csoId: CSO, trackingNumber: 'CSO/00000000/1' } });
    expect(decisions[2]).toMatchObject({ ok: false, error: { code: 'cso-not-accredited' } });
    expect(decisions[2]?.ok === false && decisions[2].error.detail).toMatch(/lapsed/);
  });

  it('refuses statements of a revoked organisation and of an unknown one', () => {
    const { decisions } = run([accredit(), command('cso.revoke-accreditation', { reason: 'x' }, at(-100)), submit('k', 'b', at(-50))]);
    expect(decisions[2]).toMatchObject({ ok: false, error: { code: 'cso-not-accredited' } });
    expect(decisions[2]?.ok === false && decisions[2].error.detail).toMatch(/revoked/);
    expect(decideCso(null, submit('k', 'b', at(-50)))).toMatchObject({ ok: false, error: { code: 'cso-not-accredited' } });
  });

  it('decides by the time of receipt, not by the order of processing', () => {
    const { decisions } = run([accredit(), submit('late', 'late', at(5)), submit('early', 'early', at(-5))]);
    expect(decisions.map((d) => d.ok)).toEqual([true, false, true]);
  });

  it('returns the same receipt for the same key and body (even after the lapse), and refuses another body', () => {
    const { state, decisions } = run([accredit(), submit('same', 'body', at(-1000))]);
    const retry = decideCso(state, submit('same', 'body', at(10_000)));
    expect(retry).toMatchObject({ ok: true, replayed: true, events: [] });
    expect(retry.ok && retry.receipt).toEqual(decisions[1]?.ok && decisions[1].receipt);
    expect(decideCso(state, submit('same', 'other', at(-500)))).toMatchObject({ ok: false, error: { code: 'idempotency-key-reused' } });
  });

  it('numbers tracking numbers per organisation', () => {
    const { decisions } = run([accredit(), submit('a', 'x', at(-10)), submit('b', 'y', at(-9))]);
    expect(decisions.slice(1).map((d) => d.ok && d.receipt.trackingNumber)).toEqual(['CSO/00000000/1', 'CSO/00000000/2']);
  });

  it('goes submitted → under-review → forwarded → acknowledged', () => {
    const first = run([accredit(), submit('a', 'x', at(-1000))]);
    const id = idOf(first.decisions[1]);
    let state = first.state;
    for (const [c, type] of [
      [review(id), 'cso.statement-review-started'],
      [forward(id), 'cso.statement-forwarded'],
      [acknowledge(id), 'cso.statement-acknowledged'],
    ] as const) {
      const d = decideCso(state, c);
      expect(d).toMatchObject({ ok: true, replayed: false, events: [{ type }] });
      state = apply(state, d);
    }
    expect(state?.statements.get(id)).toMatchObject({ status: 'acknowledged', lastChangedAt: at(-300) });
    expect(state?.version).toBe(5);
  });

  it('returns a statement under review with reasons; a returned statement cannot be forwarded', () => {
    const first = run([accredit(), submit('a', 'x', at(-1000))]);
    const id = idOf(first.decisions[1]);
    const { state, decisions } = ((s: CsoState) => {
      const ds: CsoDecision[] = [];
      for (const c of [review(id), giveBack(id)]) {
        const d = decideCso(s, c);
        ds.push(d);
        s = apply(s, d);
      }
      return { state: s, decisions: ds };
    })(first.state);
    expect(decisions[1]).toMatchObject({ ok: true, events: [{ type: 'cso.statement-returned', data: { reasons: 'Outside the mandate' } }] });
    expect(decideCso(state, forward(id))).toMatchObject({ ok: false, error: { code: 'illegal-transition' } });
    expect(decideCso(state, acknowledge(id))).toMatchObject({ ok: false, error: { code: 'illegal-transition' } });
  });

  it('refuses illegal transitions naming the current state', () => {
    const { state, decisions } = run([accredit(), submit('a', 'x', at(-1000))]);
    const id = idOf(decisions[1]);
    const skip = decideCso(state, forward(id));
    expect(skip).toMatchObject({ ok: false, error: { code: 'illegal-transition' } });
    expect(skip.ok === false && skip.error.detail).toMatch(/is submitted/);
    expect(decideCso(state, acknowledge(id))).toMatchObject({ ok: false, error: { code: 'illegal-transition' } });
    expect(decideCso(state, review('00000000-0000-4000-8000-00000000ffff'))).toMatchObject({
      ok: false,
      error: { code: 'statement-not-found' },
    });
  });

  it('answers a retried transition like the first time, without a second event', () => {
    const first = run([accredit(), submit('a', 'x', at(-1000))]);
    const id = idOf(first.decisions[1]);
    const state = apply(first.state, decideCso(first.state, review(id, at(-600))));
    const again = decideCso(state, review(id, at(-550)));
    expect(again).toMatchObject({ ok: true, replayed: true, events: [], receipt: { status: 'under-review', changedAt: at(-600) } });
  });

  it('lets transitions happen after the accreditation lapsed or was revoked', () => {
    const first = run([accredit(), submit('a', 'x', at(-1000)), command('cso.revoke-accreditation', { reason: 'x' }, at(-900))]);
    const id = idOf(first.decisions[1]);
    expect(decideCso(first.state, review(id, at(10_000)))).toMatchObject({ ok: true, replayed: false });
  });
});
