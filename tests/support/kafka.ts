import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createLogger } from '@consult/config';
import { createKafka, ensureTopics, WatchedConsumer, type ConsumedRecord, type KafkaClient } from '@consult/kafka';

export const testLogger = createLogger('test', { level: process.env.TEST_LOG_LEVEL ?? 'warn', pretty: false });

export function testKafka(): KafkaClient {
  return createKafka({ brokers: inject('kafkaBrokers').split(','), clientId: 'int-test', logger: testLogger });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export async function freshTopic(kafka: KafkaClient, partitions: number, config: Record<string, string> = {}): Promise<string> {
  const name = uniqueName('it');
  await ensureTopics(kafka, [{ name, partitions, config }], testLogger);
  return name;
}

/** Reads a whole topic with a read_committed group consumer until `expected` messages or the timeout. */
export async function consumeAll(kafka: KafkaClient, topic: string, expected: number, timeoutMs = 30_000): Promise<ConsumedRecord[]> {
  const seen: ConsumedRecord[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const consumer = new WatchedConsumer({
    kafka,
    logger: testLogger,
    topic,
    ownGroupPrefix: 'it-reader',
    autoCommit: false,
    onBatch: ({ messages }) => {
      seen.push(...messages);
      if (seen.length >= expected) done();
    },
  });
  await consumer.start();
  await Promise.race([finished, new Promise((r) => setTimeout(r, timeoutMs))]);
  // Linger briefly: anything beyond `expected` would be a duplicate and must be seen.
  await new Promise((r) => setTimeout(r, 500));
  await consumer.stop();
  return seen;
}
