import { describe, expect, it } from 'vitest';
import { inAudience, STATEMENT_NOTIFIABLE_EVENT_TYPES, statementAudienceOf, type Recipient } from './notifications.js';
import type { CsoEvent } from './statements.js';

const meta = {
  id: '00000000-0000-4000-8000-000000000001',
  source: 'test',
  occurredAt: '2026-01-01T00:00:00Z',
  key: 'cso-1',
  correlationId: 'x',
  causationId: null,
  actor: { kind: 'system', id: 'test' },
  sequence: 2,
  previousHash: null,
  hash: '0'.repeat(64),
  version: 1,
} as const;

const ev = (type: string, data: Record<string, unknown> = {}) => ({ ...meta, type, data: { statementId: 's-1', ...data } }) as unknown as CsoEvent;

const secretariat: Recipient = { kind: 'secretariat', id: 'secretariat' };
const committee: Recipient = { kind: 'standing-committee', id: 'standing-committee' };
const auditor: Recipient = { kind: 'auditor', id: 'auditor' };
const author: Recipient = { kind: 'cso', id: 'cso-1' };
const other: Recipient = { kind: 'cso', id: 'cso-2' };
const coSigner: Recipient = { kind: 'cso', id: 'cso-3' };
const state: Recipient = { kind: 'member-state', id: 'KHM' };

const who = (event: CsoEvent, coSigners: string[] = []): Recipient[] => {
  const audience = statementAudienceOf(event, coSigners);
  return audience ? [secretariat, committee, auditor, author, other, coSigner, state].filter((r) => inAudience(r, audience)) : [];
};

describe('who receives which statement event', () => {
  it('submitted: the organisation and the Secretariat (its review queue), not the committee', () => {
    expect(who(ev('cso.statement-submitted'))).toEqual([secretariat, auditor, author]);
  });

  it('under review and returned (with reasons): the organisation alone', () => {
    expect(who(ev('cso.statement-review-started'))).toEqual([auditor, author]);
    expect(who(ev('cso.statement-returned', { reasons: 'off topic' }))).toEqual([auditor, author]);
  });

  it('forwarded: the organisation and the Standing Committee', () => {
    expect(who(ev('cso.statement-forwarded'))).toEqual([committee, auditor, author]);
  });

  it('acknowledged: the organisation, the Secretariat that forwarded it, the committee', () => {
    expect(who(ev('cso.statement-acknowledged'))).toEqual([secretariat, committee, auditor, author]);
  });

  it('co-signers hear of every step of the statements they co-sign; other organisations of none', () => {
    for (const type of ['cso.statement-submitted', 'cso.statement-review-started', 'cso.statement-forwarded', 'cso.statement-returned'])
      expect(who(ev(type), ['cso-3'])).toContainEqual(coSigner);
    expect(who(ev('cso.statement-forwarded'), ['cso-3'])).not.toContainEqual(other);
  });

  it('a statement naming co-signers reaches the Secretariat when the last one confirms, not at submission', () => {
    expect(who(ev('cso.statement-submitted', { coSigners: ['cso-3'] }), ['cso-3'])).toEqual([auditor, author, coSigner]);
    const confirmed = (awaiting: string[]) => ev('cso.statement-co-signed', { coSignerId: 'cso-3', awaiting });
    expect(who(confirmed(['cso-4']), ['cso-3', 'cso-4'])).toEqual([auditor, author, coSigner]);
    expect(who(confirmed([]), ['cso-3'])).toEqual([secretariat, auditor, author, coSigner]);
  });

  it('a decline reaches the lead organisation and its co-signers, not the Secretariat (it never entered the queue)', () => {
    expect(who(ev('cso.statement-co-signing-declined', { coSignerId: 'cso-3', reason: 'no' }), ['cso-3'])).toEqual([auditor, author, coSigner]);
  });

  it('co-signing events may be subscribed to', () => {
    expect(STATEMENT_NOTIFIABLE_EVENT_TYPES).toEqual(expect.arrayContaining(['cso.statement-co-signed', 'cso.statement-co-signing-declined']));
  });

  it('accreditation events are no one’s notification', () => {
    expect(statementAudienceOf({ ...meta, type: 'cso.accreditation-renewed', data: {} } as unknown as CsoEvent)).toBeNull();
  });
});
