import { describe, expect, it } from 'vitest';
import { consultationAsOf, type DatedEvent } from './as-of.js';

const ID = '11111111-1111-4111-8111-111111111111';
const opened: DatedEvent = {
  type: 'consultation.opened',
  sequence: 1,
  occurredAt: '2026-01-01T10:00:00.000Z',
  data: {
    consultationId: ID,
    reference: 'IO/1',
    title: 't',
    documents: [{ language: 'en', title: 'd' }],
    addressees: ['KHM', 'THA'],
    deadline: '2026-02-01T00:00:00Z',
    reminderOffsetsSeconds: [3600],
    commentVisibility: 'own',
    openedAt: '2026-01-01T10:00:00.000Z',
  },
};
const comment: DatedEvent = {
  type: 'consultation.comment-submitted',
  sequence: 2,
  occurredAt: '2026-01-01T11:00:00.000Z',
  data: {
    commentId: '22222222-2222-4222-8222-222222222222',
    trackingNumber: 'IO/1/KHM/1',
    memberState: 'KHM',
    body: 'b',
    language: 'en',
    bodyHash: 'a'.repeat(64),
    idempotencyKey: 'k',
    receivedAt: '2026-01-01T11:00:00.000Z',
  },
};

describe('consultationAsOf', () => {
  it('is null before the consultation opened', () => {
    expect(consultationAsOf([opened, comment], '2026-01-01T09:59:59.999Z')).toBeNull();
  });
  it('includes events at exactly asOf and excludes later ones, whatever the offset notation', () => {
    const atOpen = consultationAsOf([opened, comment], '2026-01-01T17:00:00+07:00');
    expect(atOpen).toMatchObject({ version: 1, commentCount: 0, responses: { KHM: 'pending', THA: 'pending' } });
    const later = consultationAsOf([opened, comment], '2026-01-01T11:00:00Z');
    expect(later).toMatchObject({ version: 2, commentCount: 1, responses: { KHM: 'commented', THA: 'pending' } });
  });
});
