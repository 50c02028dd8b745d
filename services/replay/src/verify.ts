import type { Logger } from '@consult/config';
import type { KafkaClient } from '@consult/kafka';
import { ChainVerifier, type ChainRecord, type ChainReport } from './chain.js';
import { readEventRecords } from './events.js';
import type { ProgressSink } from './progress.js';

export interface VerifyOptions {
  kafka: KafkaClient;
  logger: Logger;
  /** The hash-chained history topics to check (consultation events, and any other chained stream). */
  topics: readonly string[];
  progress?: ProgressSink;
  /** Also sees every record (e.g. to collect attachment references) in the same pass. */
  onRecord?: (record: ChainRecord) => void;
}

/** Reads every event of the history topics and checks each stream's sequence and hash chain. */
export async function verifyTopics(options: VerifyOptions): Promise<ChainReport & { ms: number }> {
  const started = Date.now();
  const verifier = new ChainVerifier();
  for (const topic of options.topics) {
    await readEventRecords({
      kafka: options.kafka,
      logger: options.logger,
      topic,
      ...(options.progress ? { progress: options.progress } : {}),
      onRecords: (records) => {
        for (const record of records) {
          verifier.add(record);
          options.onRecord?.(record);
        }
      },
    });
  }
  return { ...verifier.report(), ms: Date.now() - started };
}
