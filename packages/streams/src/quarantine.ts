import {
  ContractViolation,
  quarantinedRecordCodec,
  type QuarantinedRecord,
} from '@consult/contracts';
import type { Logger } from '@consult/config';
import type { BatchingProducer, ConsumedRecord, ProducedRecord } from '@consult/kafka';

/** A record fails to decode the same way every time: it is set aside, never retried. */
export function isPoison(error: unknown): error is ContractViolation {
  return error instanceof ContractViolation;
}

/** The quarantine message for a record `consumer` could not decode, keyed by where it came from. */
export function quarantineMessage(
  consumer: string,
  topic: string,
  partition: number,
  message: ConsumedRecord,
  error: unknown,
  at = new Date(),
): ProducedRecord {
  const record: QuarantinedRecord = {
    type: 'quarantine.record',
    version: 1,
    topic,
    partition,
    offset: message.offset,
    consumer,
    reason: error instanceof ContractViolation ? [error.message, ...error.problems] : [String(error)],
    quarantinedAt: at.toISOString(),
    key: message.key ? message.key.toString('utf8') : null,
    valueBase64: message.value ? message.value.toString('base64') : null,
  };
  return { key: `${topic}:${partition}:${message.offset}`, value: quarantinedRecordCodec.encode(record) };
}

/**
 * Where consumers that keep their progress outside Kafka put the records they cannot decode. The records are
 * in Kafka before the consumer moves past them, so none is lost; a rebuild may quarantine a record again, so
 * readers count records by key (topic, partition, offset).
 */
export class Quarantine {
  constructor(
    private readonly producer: BatchingProducer,
    private readonly topic: string,
    private readonly consumer: string,
    private readonly logger: Logger,
  ) {}

  async put(topic: string, partition: number, items: { message: ConsumedRecord; error: unknown }[]): Promise<void> {
    if (items.length === 0) return;
    const at = new Date();
    this.logger.error(
      { topic, partition, offsets: items.map((i) => i.message.offset), reason: items[0]!.error instanceof Error ? items[0]!.error.message : String(items[0]!.error) },
      'records that do not decode were quarantined',
    );
    await this.producer.send(
      this.topic,
      items.map(({ message, error }) => quarantineMessage(this.consumer, topic, partition, message, error, at)),
    );
  }
}
