import type { Logger } from '@consult/config';
import { readToEnd, type KafkaClient, type ConsumedRecord } from '@consult/kafka';
import type { ChainRecord } from './chain.js';
import { silentProgress, type ProgressSink } from './progress.js';

export interface ReadEventsOptions {
  kafka: KafkaClient;
  logger: Logger;
  topic: string;
  progress?: ProgressSink;
  /** Only this stream (message key); every stream when absent. */
  key?: string;
  onRecords: (records: ChainRecord[]) => void | Promise<void>;
}

/** Reads a topic from its beginning to its current end in fetched batches, each stream in stored order. */
export async function readEventRecords(options: ReadEventsOptions): Promise<number> {
  const progress = options.progress ?? silentProgress;
  const { messages } = await readToEnd(options.kafka, {
    topic: options.topic,
    logger: options.logger,
    groupIdPrefix: `${options.topic}.replay`,
    onBatch: async (partition, batch: ConsumedRecord[]) => {
      progress.add(batch.length);
      const records: ChainRecord[] = [];
      for (const m of batch) {
        const key = m.key?.toString('utf8') ?? null;
        if (options.key !== undefined && key !== options.key) continue;
        records.push({ topic: options.topic, partition, offset: m.offset, key, value: m.value?.toString('utf8') ?? null });
      }
      if (records.length > 0) await options.onRecords(records);
    },
  });
  return messages;
}
