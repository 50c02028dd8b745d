import type { Logger } from '@consult/config';
import { quarantinedRecordCodec, type QuarantinedRecord } from '@consult/contracts';
import { readToEnd, type KafkaClient } from '@consult/kafka';

/**
 * The records consumers set aside because they could not decode them, once each (a consumer that rebuilt its
 * state may have quarantined the same record again; records are keyed by topic, partition and offset, and
 * several consumers of one topic each report it).
 */
export async function quarantinedRecords(kafka: KafkaClient, logger: Logger, topic: string): Promise<QuarantinedRecord[]> {
  const byPosition = new Map<string, QuarantinedRecord>();
  await readToEnd(kafka, {
    topic,
    logger,
    groupIdPrefix: `${topic}.replay`,
    onBatch: (_partition, messages) => {
      for (const m of messages) {
        const record = quarantinedRecordCodec.decode(m.value);
        const position = `${record.topic}:${record.partition}:${record.offset}`;
        const seen = byPosition.get(position);
        if (seen) {
          if (!seen.consumer.split(', ').includes(record.consumer)) seen.consumer = `${seen.consumer}, ${record.consumer}`;
        } else byPosition.set(position, { ...record });
      }
    },
  });
  return [...byPosition.values()];
}

export function formatQuarantined(r: QuarantinedRecord): string {
  return `${r.topic}[${r.partition}]@${r.offset}  ${r.quarantinedAt}  by ${r.consumer}: ${r.reason.join('; ')}`;
}
