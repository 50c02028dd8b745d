import { describe, expect, it } from 'vitest';
import type { CsoCommand, CsoEvent } from '@consult/contracts';
import { followUpOf } from './co-signing.js';

const LEAD = '00000000-0000-4000-8000-00000000c501';
const SIGNER = '00000000-0000-4000-8000-00000000c502';
const STATEMENT = '00000000-0000-4000-9000-000000000001';
const command = { id: '00000000-0000-4000-8000-000000000099', correlationId: 'corr', actor: { kind: 'cso', id: SIGNER } } as unknown as CsoCommand;
const event = (type: string, data: Record<string, unknown>): CsoEvent =>
  ({ id: '00000000-0000-4000-8000-0000000000e1', type, key: SIGNER, data: { statementId: STATEMENT, leadCsoId: LEAD, receivedAt: '2026-03-01T10:00:00.000Z', ...data } }) as unknown as CsoEvent;

describe('the follow-up a co-signer’s writer sends to the lead’s stream', () => {
  it('records a confirmation on the lead’s key, by the co-signer, with an id derived from the event', () => {
    const followUp = followUpOf(event('cso.co-signature-given', {}), command)!;
    expect(followUp).toMatchObject({
      type: 'cso.record-co-signature',
      key: LEAD,
      receivedAt: '2026-03-01T10:00:00.000Z',
      correlationId: 'corr',
      actor: { kind: 'cso', id: SIGNER },
      data: { statementId: STATEMENT, coSignerId: SIGNER, decision: 'confirmed', at: '2026-03-01T10:00:00.000Z', sourceEventId: '00000000-0000-4000-8000-0000000000e1' },
    });
    // Sent again for the same event, it is the same command.
    expect(followUpOf(event('cso.co-signature-given', {}), command)!.id).toBe(followUp.id);
  });

  it('carries a refusal and its reason; other events send nothing', () => {
    expect(followUpOf(event('cso.co-signature-refused', { reason: 'No' }), command)!.data).toMatchObject({ decision: 'declined', reason: 'No' });
    expect(followUpOf(event('cso.statement-forwarded', {}), command)).toBeNull();
  });
});
