import { commandOutcomeCodec, MALFORMED_COMMAND, type CommandOutcome } from '@consult/contracts';
import type { ConsumedRecord, ProducedRecord } from '@consult/kafka';
import { quarantineMessage } from './quarantine.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What a single writer produces, in its transaction, for a command that does not decode: the record goes to
 * quarantine, and if the bytes still name a command id the command is decided `rejected` with the stable code
 * `malformed-command`, so whoever waits on it (a 202's status URL) gets an answer instead of "pending" forever.
 */
export function malformedCommandOutputs(
  consumer: string,
  topic: string,
  partition: number,
  message: ConsumedRecord,
  error: unknown,
  decidedAt: string,
): { quarantine: ProducedRecord; outcome: ProducedRecord | null } {
  const quarantine = quarantineMessage(consumer, topic, partition, message, error, new Date(decidedAt));
  let parsed: Record<string, unknown> | null = null;
  try {
    const value: unknown = JSON.parse(message.value?.toString('utf8') ?? 'null');
    if (value && typeof value === 'object' && !Array.isArray(value)) parsed = value as Record<string, unknown>;
  } catch {
    // not JSON: nobody can be told
  }
  const commandId = parsed?.id;
  if (typeof commandId !== 'string' || !UUID.test(commandId)) return { quarantine, outcome: null };
  const key = typeof parsed?.key === 'string' ? parsed.key : (message.key?.toString('utf8') ?? '');
  const detail = error instanceof Error ? error.message.slice(0, 500) : 'the command does not match its contract';
  const outcome = (actor: unknown): CommandOutcome => ({
    type: 'command.outcome',
    version: 1,
    commandId,
    commandType: typeof parsed?.type === 'string' ? parsed.type.slice(0, 200) : 'unknown',
    key,
    decidedAt,
    actor: actor as CommandOutcome['actor'],
    result: { status: 'rejected', code: MALFORMED_COMMAND, detail },
  });
  // The sender may read its outcome only if the actor it named is well-formed.
  let value: string;
  try {
    value = commandOutcomeCodec.encode(outcome(parsed?.actor));
  } catch {
    value = commandOutcomeCodec.encode(outcome({ kind: 'system', id: 'unknown' }));
  }
  return { quarantine, outcome: { key, value, headers: { 'command-id': commandId } } };
}
