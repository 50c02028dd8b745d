import { deterministicUuid, type CsoCommand, type CsoCommandOf, type CsoEvent } from '@consult/contracts';

/**
 * Co-signing crosses streams: a co-signer confirms (or declines) on its own stream, whose writer alone knows
 * its accreditation, and the lead organisation's stream records it on the statement. The co-signer's writer
 * emits this follow-up command to the lead's stream in the same Kafka transaction as the co-signer's event, so
 * the confirmation is recorded exactly when it happened (no relay process that could lag or lose it); the
 * lead's writer then decides on its own key. The command id derives from the event id: a re-sent follow-up is
 * the same command, and recording is idempotent in the domain.
 */
export function followUpOf(event: CsoEvent, command: CsoCommand): CsoCommandOf<'cso.record-co-signature'> | null {
  if (event.type !== 'cso.co-signature-given' && event.type !== 'cso.co-signature-refused') return null;
  const d = event.data;
  const reason = event.type === 'cso.co-signature-refused' ? event.data.reason : undefined;
  return {
    id: deterministicUuid(`${event.id}:record-co-signature`),
    type: 'cso.record-co-signature',
    version: 1,
    key: d.leadCsoId,
    receivedAt: d.receivedAt,
    correlationId: command.correlationId,
    actor: command.actor,
    data: {
      statementId: d.statementId,
      coSignerId: event.key,
      decision: event.type === 'cso.co-signature-given' ? 'confirmed' : 'declined',
      at: d.receivedAt,
      ...(reason !== undefined ? { reason } : {}),
      sourceEventId: event.id,
    },
  };
}
