import { describe, expect, it } from 'vitest';
import type { CsoEvent } from '@consult/contracts';
import { statementAsOf } from './statement-as-of.js';

const CSO = '00000000-0000-4000-8000-00000000c501';
const S1 = '00000000-0000-4000-8000-0000000000a1';
const S2 = '00000000-0000-4000-8000-0000000000a2';
const HASH = 'a'.repeat(64);
const sec = { kind: 'secretariat', id: 'secretariat' } as const;
const cso = { kind: 'cso', id: CSO } as const;

let sequence = 0;
const ev = (type: string, minute: number, data: Record<string, unknown>, actor: { kind: string; id: string } = sec): CsoEvent => {
  sequence += 1;
  const at = `2026-03-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
  return {
    id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    source: 'test',
    type,
    version: 1,
    key: CSO,
    occurredAt: at,
    correlationId: 'c',
    causationId: null,
    actor,
    sequence,
    previousHash: null,
    hash: HASH,
    data: { ...data, ...(type === 'cso.accredited' ? {} : { receivedAt: at }) },
  } as unknown as CsoEvent;
};

const submitted = (id: string, minute: number) =>
  ev('cso.statement-submitted', minute, {
    statementId: id,
    trackingNumber: `CSO/00000000/${id.slice(-1)}`,
    subject: 'Water rights',
    body: 'A joint monitoring body.',
    language: 'en',
    bodyHash: HASH,
    idempotencyKey: `k-${id}`,
  }, cso);

const stream = (): CsoEvent[] => {
  sequence = 0;
  return [
    ev('cso.accredited', 0, {
      csoId: CSO,
      name: 'Steppe Water Alliance',
      linkBody: 'Standing Committee',
      contact: { name: 'A', email: 'a@example.org' },
      accreditedUntil: '2027-01-01T00:00:00Z',
      accreditedAt: '2026-03-01T10:00:00.000Z',
      keyId: 'k',
      keyHash: HASH,
    }),
    submitted(S1, 1),
    submitted(S2, 2),
    ev('cso.statement-review-started', 3, { statementId: S1 }),
    ev('cso.statement-forwarded', 5, { statementId: S1, note: 'For March' }),
    ev('cso.statement-returned', 6, { statementId: S2, reasons: 'Off the agenda' }),
    ev('cso.statement-acknowledged', 7, { statementId: S1 }, { kind: 'standing-committee', id: 'standing-committee' }),
  ];
};

describe('a statement as it stood at a moment', () => {
  it('does not exist before its submission', () => {
    expect(statementAsOf(stream(), S1, '2026-03-01T10:00:30Z')).toBeNull();
  });

  it('between two transitions shows the earlier state, with the transitions so far', () => {
    const view = statementAsOf(stream(), S1, '2026-03-01T10:04:00Z')!;
    expect(view.status).toBe('under-review');
    expect(view.lastChangedAt).toBe('2026-03-01T10:03:00.000Z');
    expect(view.history.map((h) => h.status)).toEqual(['submitted', 'under-review']);
    expect(view.forwardingNote).toBeUndefined();
    expect(view).toMatchObject({ csoId: CSO, subject: 'Water rights', trackingNumber: 'CSO/00000000/1' });
  });

  it('at an event’s own time includes it; at the end, every transition with who made it', () => {
    expect(statementAsOf(stream(), S1, '2026-03-01T10:05:00.000Z')!.status).toBe('forwarded');
    const view = statementAsOf(stream(), S1, '2030-01-01T00:00:00Z')!;
    expect(view.status).toBe('acknowledged');
    expect(view.forwardingNote).toBe('For March');
    expect(view.history.map((h) => [h.status, h.actor.kind])).toEqual([
      ['submitted', 'cso'],
      ['under-review', 'secretariat'],
      ['forwarded', 'secretariat'],
      ['acknowledged', 'standing-committee'],
    ]);
  });

  it('keeps statements of the same organisation apart', () => {
    const view = statementAsOf(stream(), S2, '2030-01-01T00:00:00Z')!;
    expect(view.status).toBe('returned');
    expect(view.returnReasons).toBe('Off the agenda');
    expect(view.history.map((h) => h.status)).toEqual(['submitted', 'returned']);
  });
});
