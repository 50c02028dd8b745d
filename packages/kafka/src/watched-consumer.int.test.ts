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

  it('prepares one assignment at a time: a rebalance during a slow preparation waits for it', async () => {
    const topic = await freshTopic(kafka, 4);
    const groupId = uniqueName('watched');
    const steps: string[] = [];
    let calls = 0;
    const make = (onAssigned?: (partitions: number[]) => Promise<void>) =>
      new WatchedConsumer({ kafka, logger: testLogger, topic, groupId, autoCommit: true, ...(onAssigned ? { onAssigned } : {}), onBatch: () => undefined });
    const a = make(async (partitions) => {
      const call = ++calls;
      steps.push(`start ${call} [${partitions.length}]`);
      // The first preparation (all four partitions) outlasts the rebalance that the second member causes.
      if (call === 1) await new Promise((resolve) => setTimeout(resolve, 5_000));
      steps.push(`end ${call}`);
    });
    const b = make();
    try {
      await a.start();
      await b.start();
      const end = Date.now() + 30_000;
      while (!steps.includes('end 2') && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
      expect(steps.slice(0, 4)).toEqual(['start 1 [4]', 'end 1', 'start 2 [2]', 'end 2']);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }, 90_000);
});

