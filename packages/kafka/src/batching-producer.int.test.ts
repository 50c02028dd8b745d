import { pino } from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from './client.js';
import { consumeAll, freshTopic, testKafka, testLogger } from '../../../tests/support/kafka.js';
import { BatchingProducer } from './batching-producer.js';

/**
 * kafkajs#1005 (open): its idempotent producer has been reported to drop messages when more requests are in
 * flight than there are partitions. BatchingProducer keeps exactly one request in flight and coalesces
 * concurrent sends, so a burst of concurrent sends must arrive complete, once, and in order per key.
 */
describe('BatchingProducer under concurrent load', () => {
  const kafka = testKafka();
  const producers: BatchingProducer[] = [];
  afterAll(async () => Promise.all(producers.map((p) => p.close())));

  it('does not warn that its retry limit may invalidate exactly-once: a failed producer is replaced', async () => {
    const warnings: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void (JSON.parse(line).level >= 40 && warnings.push(line)) });
    const producer = new BatchingProducer(createKafka({ brokers: inject('kafkaBrokers').split(','), clientId: 'warn-test', logger }), logger);
    producers.push(producer);
    await producer.connect();
    expect(warnings.filter((w) => w.includes('Limiting retries'))).toEqual([]);
  });

  for (const partitions of [1, 6]) {
    it(`delivers 20,000 concurrent sends exactly once and in order per key (${partitions} partition(s))`, async () => {
      const topic = await freshTopic(kafka, partitions);
      const producer = new BatchingProducer(kafka, testLogger);
      producers.push(producer);
      await producer.connect();
      const keys = 50;
      const perKey = 400;
      const sends: Promise<void>[] = [];
      for (let i = 0; i < perKey; i++)
        for (let k = 0; k < keys; k++) sends.push(producer.send(topic, [{ key: `k${k}`, value: String(i) }]));
      await Promise.all(sends);
      const messages = await consumeAll(kafka, topic, keys * perKey);
      expect(messages).toHaveLength(keys * perKey);
      const byKey = new Map<string, number[]>();
      for (const m of messages) {
        const key = m.key!.toString();
        const list = byKey.get(key) ?? [];
        list.push(Number(m.value!.toString()));
        byKey.set(key, list);
      }
      expect(byKey.size).toBe(keys);
      for (const values of byKey.values()) expect(values).toEqual(Array.from({ length: perKey }, (_, i) => i));
    });
  }

  it('splits a burst larger than one broker request instead of failing it', async () => {
    const topic = await freshTopic(kafka, 1);
    const producer = new BatchingProducer(kafka, testLogger);
    producers.push(producer);
    await producer.connect();
    const sends = Array.from({ length: 5_000 }, (_, i) => producer.send(topic, [{ key: 'k', value: `${i}:${'x'.repeat(1_024)}` }]));
    await Promise.all(sends);
    const messages = await consumeAll(kafka, topic, 5_000);
    expect(messages.map((m) => Number(m.value!.toString().split(':')[0]))).toEqual(Array.from({ length: 5_000 }, (_, i) => i));
  });

  it('rejects every send of a failed request and accepts nothing after close', async () => {
    const producer = new BatchingProducer(kafka, testLogger);
    await producer.connect();
    await producer.close();
    await expect(producer.send('any', [{ value: 'x' }])).rejects.toThrow(/closed/);
  });
});
