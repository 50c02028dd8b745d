import { describe, expect, it } from 'vitest';
import { freshTopic, testKafka, testLogger, uniqueName } from '../../../tests/support/kafka.js';
import { BatchingProducer } from './batching-producer.js';
import { WatchedConsumer } from './watched-consumer.js';

describe('WatchedConsumer', () => {
  const kafka = testKafka();

  it('replaces a consumer that hangs in a batch, and the replacement gets what the hung one held', async () => {
    const topic = await freshTopic(kafka, 1);
    const producer = new BatchingProducer(kafka, testLogger);
    await producer.connect();
    await producer.send(topic, Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
    await producer.close();
    const seen = new Set<string>();
    const assigned: number[][] = [];
    let batches = 0;
    const consumer = new WatchedConsumer({
      kafka,
      logger: testLogger,
      topic,
      groupId: uniqueName('watched'),
      autoCommit: true,
      hungAfterMs: 3_000,
      onAssigned: async (partitions) => void assigned.push(partitions),
      onBatch: async ({ messages }) => {
        batches += 1;
        // The first batch never returns, as a kafkajs consumer stuck after a broker restart never does.
        if (batches === 1) await new Promise(() => undefined);
        for (const m of messages) seen.add(m.value!.toString());
      },
    });
    try {
      await consumer.start();
      const end = Date.now() + 60_000;
      while (seen.size < 10 && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
      expect([...seen].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`).sort());
      expect(batches).toBeGreaterThan(1);
      expect(assigned.length).toBeGreaterThan(1);
    } finally {
      await consumer.stop();
    }
  }, 90_000);
});
