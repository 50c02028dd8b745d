import { describe, expect, it } from 'vitest';
import type { ConsultationEvent } from './consultation.js';
import { audienceOf, CONSULTATION_NOTIFIABLE_EVENT_TYPES, deliveryRecordCodec, mayReceive, needsAddressees, type Recipient } from './notifications.js';

const meta = {
  id: '00000000-0000-4000-8000-000000000001',
  source: 'test',
  occurredAt: '2026-01-01T00:00:00Z',
  key: 'c-1',
  correlationId: 'x',
  causationId: null,
  actor: { kind: 'system', id: 'test' },
  sequence: 2,
  previousHash: null,
  hash: '0'.repeat(64),
  version: 1,
} as const;

const ev = (type: string, data: Record<string, unknown>) => ({ ...meta, type, data }) as unknown as ConsultationEvent;

const secretariat: Recipient = { kind: 'secretariat', id: 'secretariat' };
const auditor: Recipient = { kind: 'auditor', id: 'auditor' };
const cso: Recipient = { kind: 'cso', id: 'cso-1' };
const ms = (id: string): Recipient => ({ kind: 'member-state', id });
const addressees = ['KHM', 'THA', 'KAZ'];

describe('who receives which consultation event', () => {
  it('opened and deadline-extended: the addressees and the secretariat', () => {
    for (const event of [ev('consultation.opened', { addressees }), ev('consultation.deadline-extended', {})]) {
      expect(audienceOf(event, addressees)).toEqual({ secretariat: true, memberStates: addressees });
      expect(mayReceive(ms('RUS'), event, addressees)).toBe(false);
    }
  });

  it('reminder-issued: only the pending member states', () => {
    const event = ev('consultation.reminder-issued', { pending: ['THA'] });
    expect(mayReceive(ms('THA'), event, addressees)).toBe(true);
    expect(mayReceive(ms('KHM'), event, addressees)).toBe(false);
    expect(mayReceive(secretariat, event, addressees)).toBe(false);
  });

  it('closed: the secretariat and every addressee, responded, "no comments" or pending', () => {
    const event = ev('consultation.closed', { responded: ['KHM'], noComments: ['MNG'], pending: ['THA', 'KAZ'] });
    expect(['KHM', 'MNG', 'THA', 'KAZ'].every((code) => mayReceive(ms(code), event))).toBe(true);
    expect(mayReceive(secretariat, event)).toBe(true);
    expect(mayReceive(ms('RUS'), event)).toBe(false);
  });

  it("silence-outcome-revised: the closing's audience, the secretariat and every addressee", () => {
    const closed = ev('consultation.closed', { responded: ['KHM'], noComments: ['THA'], pending: ['KAZ'] });
    const revised = ev('consultation.silence-outcome-revised', { memberState: 'KAZ', outcome: 'silence-broken' });
    expect(needsAddressees(revised)).toBe(true);
    expect(audienceOf(revised, addressees)).toEqual(audienceOf(closed, addressees));
    expect(mayReceive(ms('RUS'), revised, addressees)).toBe(false);
    expect(CONSULTATION_NOTIFIABLE_EVENT_TYPES).toContain('consultation.silence-outcome-revised');
  });

  it('comment events: the secretariat and the commenting member state only', () => {
    for (const type of ['consultation.comment-submitted', 'consultation.comment-amended', 'consultation.comment-withdrawn']) {
      const event = ev(type, { memberState: 'KHM' });
      expect(mayReceive(ms('KHM'), event, addressees)).toBe(true);
      expect(mayReceive(ms('THA'), event, addressees)).toBe(false);
      expect(mayReceive(secretariat, event, addressees)).toBe(true);
    }
  });

  it('a nil return: the secretariat and that member state; a corrigendum or a silence break: every addressee', () => {
    const nil = ev('consultation.no-comments-submitted', { memberState: 'KHM' });
    expect(mayReceive(ms('KHM'), nil, addressees)).toBe(true);
    expect(mayReceive(ms('THA'), nil, addressees)).toBe(false);
    expect(mayReceive(secretariat, nil, addressees)).toBe(true);
    for (const type of ['consultation.document-version-issued', 'consultation.silence-broken']) {
      const event = ev(type, { memberState: 'KHM' });
      expect(audienceOf(event, addressees)).toEqual({ secretariat: true, memberStates: addressees });
      expect(mayReceive(ms('RUS'), event, addressees)).toBe(false);
    }
  });

  it('auditors see everything; other principals nothing', () => {
    const events = [ev('consultation.reminder-issued', { pending: [] }), ev('consultation.comment-submitted', { memberState: 'KHM' })];
    for (const event of events) {
      expect(mayReceive(auditor, event)).toBe(true);
      expect(mayReceive(cso, event)).toBe(false);
    }
  });
});

describe('delivery requests', () => {
  const request = (version: number, data: Record<string, unknown>) => ({
    id: '00000000-0000-4000-8000-000000000009',
    source: 'notifier',
    type: 'delivery.requested',
    version,
    occurredAt: '2026-01-01T00:00:00Z',
    key: 'sub-1',
    correlationId: 'x',
    causationId: null,
    actor: { kind: 'system', id: 'notifier' },
    data: {
      deliveryId: '00000000-0000-4000-8000-00000000000a',
      subscriptionId: '00000000-0000-4000-8000-00000000000d',
      eventId: '00000000-0000-4000-8000-00000000000b',
      eventType: 'cso.statement-submitted',
      consultationId: 'cso-1',
      eventOccurredAt: '2026-01-01T00:00:00Z',
      requestedAt: '2026-01-01T00:00:00Z',
      ...data,
    },
  });

  it('upcasts v1 and v2 to v3 as they are: a v2 reference is to a consultation history', () => {
    const v2 = request(2, { eventType: 'consultation.comment-submitted', consultationId: 'c-1', eventRef: { consultationId: 'c-1', sequence: 2 } });
    expect(deliveryRecordCodec.decode(JSON.stringify(v2))).toEqual({ ...v2, version: 3 });
    const v1 = request(1, { event: { any: 'thing' } });
    expect(deliveryRecordCodec.decode(JSON.stringify(v1))).toEqual({ ...v1, version: 3 });
  });

  it('v3 may reference a statement event in its organisation stream; v2 may not', () => {
    const data = { statementId: '00000000-0000-4000-8000-00000000000c', eventRef: { csoId: 'cso-1', sequence: 7 } };
    expect(deliveryRecordCodec.decode(JSON.stringify(request(3, data)))).toMatchObject({ version: 3, data });
    expect(() => deliveryRecordCodec.encode(request(2, data) as never)).toThrow();
  });
});
