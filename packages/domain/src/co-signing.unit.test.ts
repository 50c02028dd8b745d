import { describe, expect, it } from 'vitest';
import type { CsoCommand, CsoCommandOf, CsoCommandType } from '@consult/contracts';
import { decideCso, evolveCso, type CsoDecision, type CsoState } from './statements.js';

const LEAD = '00000000-0000-4000-8000-00000000c501';
const B = '00000000-0000-4000-8000-00000000c502';
const C = '00000000-0000-4000-8000-00000000c503';
const STATEMENT = '00000000-0000-4000-9000-000000000001';
const HASH = 'a'.repeat(64);
const UNTIL = '2026-06-30T00:00:00.000Z';
const t = (minute: number): string => new Date(Date.parse('2026-03-01T10:00:00Z') + minute * 60_000).toISOString();

let seq = 0;
function command<T extends CsoCommandType>(type: T, key: string, data: CsoCommandOf<T>['data'], receivedAt: string): CsoCommandOf<T> {
  seq += 1;
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    type,
    version: 1,
    key,
    receivedAt,
    correlationId: 'test',
    actor: { kind: 'cso', id: key },
    data,
  } as unknown as CsoCommandOf<T>;
}

const accredit = (id: string, until = UNTIL) =>
  command('cso.accredit', id, {
    name: `Organisation ${id.slice(-3)}`,
    linkBody: 'Standing Committee',
    contact: { name: 'A', email: 'a@example.org' },
    accreditedUntil: until,
    keyId: `k-${id}`,
    keyHash: HASH,
  }, t(0));

/** Each organisation's stream, with its own state, as each single writer keeps it. */
class Streams {
  readonly states = new Map<string, CsoState>();
  decide(c: CsoCommand): CsoDecision {
    const decision = decideCso(this.states.get(c.key) ?? null, c);
    if (decision.ok) {
      let state = this.states.get(c.key) ?? null;
      for (const e of decision.events) state = evolveCso(state, { ...e, sequence: (state?.version ?? 0) + 1 });
      this.states.set(c.key, state);
    }
    return decision;
  }
  /** What the co-signer's writer sends to the lead's stream in the same transaction (co-signing.ts). */
  relay(decision: CsoDecision, coSigner: string): CsoDecision | null {
    if (!decision.ok || decision.events.length === 0) return null;
    const event = decision.events[0]!;
    if (event.type !== 'cso.co-signature-given' && event.type !== 'cso.co-signature-refused') return null;
    return this.decide(
      command('cso.record-co-signature', event.data.leadCsoId, {
        statementId: event.data.statementId,
        coSignerId: coSigner,
        decision: event.type === 'cso.co-signature-given' ? 'confirmed' : 'declined',
        at: event.data.receivedAt,
        ...(event.type === 'cso.co-signature-refused' && event.data.reason ? { reason: event.data.reason } : {}),
        sourceEventId: '00000000-0000-4000-8000-0000000000ee',
      }, event.data.receivedAt),
    );
  }
  statement() {
    return this.states.get(LEAD)?.statements.get(STATEMENT);
  }
}

function setUp(coSigners = [B, C], untilB = UNTIL): Streams {
  const s = new Streams();
  s.decide(accredit(LEAD));
  s.decide(accredit(B, untilB));
  s.decide(accredit(C));
  const submitted = s.decide(
    command('cso.submit-statement', LEAD, {
      statementId: STATEMENT,
      idempotencyKey: 'k1',
      subject: 'Water rights',
      body: 'A joint monitoring body.',
      language: 'en',
      bodyHash: HASH,
      coSigners,
    }, t(1)),
  );
  expect(submitted).toMatchObject({ ok: true, receipt: { status: 'awaiting-co-signatures' } });
  return s;
}

const coSign = (key: string, at: string) => command('cso.co-sign-statement', key, { statementId: STATEMENT, leadCsoId: LEAD }, at);
const decline = (key: string, at: string, reason?: string) =>
  command('cso.refuse-co-signature', key, { statementId: STATEMENT, leadCsoId: LEAD, ...(reason ? { reason } : {}) }, at);
const review = (at: string) => command('cso.review-statement', LEAD, { statementId: STATEMENT }, at);

describe('co-signed statements', () => {
  it('wait for every co-signer before the review queue, recording who signed when', () => {
    const s = setUp();
    expect(s.decide(review(t(2)))).toMatchObject({ ok: false, error: { code: 'illegal-transition' } });
    s.relay(s.decide(coSign(B, t(3))), B);
    expect(s.statement()?.status).toBe('awaiting-co-signatures');
    expect(s.statement()?.coSigners.get(B)).toEqual({ status: 'confirmed', at: t(3) });
    const last = s.relay(s.decide(coSign(C, t(4))), C);
    expect(last).toMatchObject({ ok: true, events: [{ type: 'cso.statement-co-signed', data: { awaiting: [] } }] });
    expect(s.statement()).toMatchObject({ status: 'submitted', lastChangedAt: t(4) });
    expect(s.decide(review(t(5)))).toMatchObject({ ok: true });
  });

  it('a confirmation sent again is answered as before, without a second event, on both streams', () => {
    const s = setUp();
    s.relay(s.decide(coSign(B, t(3))), B);
    expect(s.decide(coSign(B, t(4)))).toMatchObject({ ok: true, events: [], replayed: true });
    const again = s.decide(
      command('cso.record-co-signature', LEAD, { statementId: STATEMENT, coSignerId: B, decision: 'confirmed', at: t(3), sourceEventId: '00000000-0000-4000-8000-0000000000ee' }, t(3)),
    );
    expect(again).toMatchObject({ ok: true, events: [], replayed: true });
  });

  it('any co-signer may decline: the statement goes no further, with the reason', () => {
    const s = setUp();
    s.relay(s.decide(coSign(B, t(3))), B);
    const declined = s.relay(s.decide(decline(C, t(4), 'We disagree with paragraph 3')), C);
    expect(declined).toMatchObject({ ok: true, events: [{ type: 'cso.statement-co-signing-declined', data: { reason: 'We disagree with paragraph 3' } }] });
    expect(s.statement()?.status).toBe('co-signing-declined');
    expect(s.decide(review(t(5)))).toMatchObject({ ok: false, error: { code: 'illegal-transition' } });
    // Having declined, it cannot confirm after all.
    expect(s.decide(coSign(C, t(6)))).toMatchObject({ ok: false, error: { code: 'illegal-transition' } });
  });

  it('a co-signer whose accreditation lapsed or was revoked cannot confirm, and says why', () => {
    const lapsed = setUp([B], t(2));
    const late = lapsed.decide(coSign(B, t(3)));
    expect(late).toMatchObject({ ok: false, error: { code: 'cso-not-accredited' } });
    expect(late.ok ? '' : late.error.detail).toMatch(/lapsed at .*cannot co-sign/);
    expect(lapsed.statement()?.status).toBe('awaiting-co-signatures');

    const revoked = setUp([B]);
    revoked.decide(command('cso.revoke-accreditation', B, { reason: 'misconduct' }, t(2)));
    const refused = revoked.decide(coSign(B, t(3)));
    expect(refused.ok ? '' : refused.error.detail).toMatch(/was revoked at .*cannot co-sign/);
  });

  it('only named co-signers are recorded; the author never names itself', () => {
    const s = setUp([B]);
    const stranger = s.relay(s.decide(coSign(C, t(3))), C);
    expect(stranger).toMatchObject({ ok: false, error: { code: 'not-a-co-signer' } });
    const self = s.decide(
      command('cso.submit-statement', LEAD, {
        statementId: '00000000-0000-4000-9000-000000000002',
        idempotencyKey: 'k2',
        subject: 's',
        body: 'b',
        language: 'en',
        bodyHash: HASH,
        coSigners: [LEAD],
      }, t(3)),
    );
    expect(self).toMatchObject({ ok: false, error: { code: 'co-signer-invalid' } });
  });
});
