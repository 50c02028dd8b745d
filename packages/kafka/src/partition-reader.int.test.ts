import { describe, expect, it } from 'vitest';
import { freshTopic, testKafka, testLogger } from '../../../tests/support/kafka.js';
import { BatchingProducer } from './batching-producer.js';
import { readToEnd } from './partition-reader.js';

describe('readToEnd', () => {
  const kafka = testKafka();

  it('hands each record over once when it starts from given offsets', async () => {
    const partitions = [0, 1, 2, 3, 4, 5];
    const topic = await freshTopic(kafka, partitions.length);
    const producer = new BatchingProducer(kafka, testLogger);
    await producer.connect();
    for (const partition of partitions)
      for (let batch = 0; batch < 5; batch++)
        await producer.send(topic, Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: `p${partition}-${batch}-${i}`, partition })));
    await producer.close();
    // From the beginning (0), the middle and near the end.
    const from = new Map(partitions.map((p) => [p, [0, 300, 750, 1_200, 1_499, 1_000][p]!]));
    // A writer taking over reads on from where its state was last exact: a record handed over twice would be
    // applied to that state twice. Several reads, since the fetch kafkajs begins before the seek is a race.
    for (let run = 0; run < 8; run++) {
      const seen = new Map<number, number[]>(partitions.map((p) => [p, []]));
      const result = await readToEnd(kafka, { topic, from, logger: testLogger, onBatch: (p, ms) => void seen.get(p)!.push(...ms.map((m) => Number(m.offset))) });
      for (const [partition, start] of from) {
        const offsets = seen.get(partition)!;
        expect(offsets, `run ${run}, partition ${partition}`).toEqual(Array.from({ length: 1_500 - start }, (_, i) => start + i));
      }
      expect(result.messages).toBe([...from.values()].reduce((sum, start) => sum + 1_500 - start, 0));
    }
  }, 120_000);
});
