import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createLogger } from '@consult/config';
import { createKafka, ensureTopics, type Kafka, type KafkaMessage } from '@consult/kafka';

export const testLogger = createLogger('test', { level: process.env.TEST_LOG_LEVEL ?? 'warn', pretty: false });

export function testKafka(): Kafka {
  return createKafka({ brokers: inject('kafkaBrokers').split(','), clientId: 'int-test', logger: testLogger });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export async function freshTopic(kafka: Kafka, partitions: number, config: Record<string, string> = {}): Promise<string> {
  const name = uniqueName('it');
  await ensureTopics(kafka, [{ name, partitions, config }], testLogger);
  return name;
}

/** Reads a whole topic with a read_committed group consumer until `expected` messages or the timeout. */
export async function consumeAll(kafka: Kafka, topic: string, expected: number, timeoutMs = 30_000): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('it-reader'), maxWaitTimeInMs: 100 });
  const seen: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      seen.push(...batch.messages);
      if (seen.length >= expected) done();
    },
  });
  await Promise.race([finished, new Promise((r) => setTimeout(r, timeoutMs))]);
  // Linger briefly: anything beyond `expected` would be a duplicate and must be seen.
  await new Promise((r) => setTimeout(r, 500));
  await consumer.disconnect();
  return seen;
}
