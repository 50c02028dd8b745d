import { describe, expect, it } from 'vitest';
import { consultationEventCodec } from './codec.js';

describe('upcasting consultation.closed 1 → 2', () => {
  it('reads an old closing as the comment procedure with no nil returns, on version 1 of the documents', () => {
    const v1 = {
      id: '00000000-0000-4000-8000-000000000001',
      source: 'consultation-service',
      type: 'consultation.closed',
      version: 1,
      occurredAt: '2026-01-01T00:00:02.000Z',
      key: '00000000-0000-4000-8000-0000000000aa',
      correlationId: 'x',
      causationId: null,
      actor: { kind: 'system', id: 'deadlines' },
      sequence: 5,
      previousHash: 'a'.repeat(64),
      hash: 'b'.repeat(64),
      data: { closedAt: '2026-01-01T00:00:02.000Z', deadline: '2026-01-01T00:00:00.000Z', responded: ['KHM'], pending: ['THA'] },
    };
    const event = consultationEventCodec.decode(JSON.stringify(v1));
    expect(event).toMatchObject({
      type: 'consultation.closed',
      version: 2,
      hash: 'b'.repeat(64),
      data: { responded: ['KHM'], pending: ['THA'], noComments: [], procedure: 'comments', documentVersion: 1 },
    });
  });
});
