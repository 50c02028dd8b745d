import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createRedis, KeySpace } from '@consult/redis';
import { BatchingProducer } from '@consult/kafka';
import { consumeAll, freshTopic, testKafka, testLogger, uniqueName } from './support/kafka.js';

/** The foundation's smoke test: a message through the real broker, a value through the real Redis. */
describe('smoke: the real broker and the real Redis', () => {
  const redis = createRedis(inject('redisUrl'), testLogger);
  afterAll(() => redis.disconnect());

  it('produces and consumes a message in a consumer group', async () => {
    const kafka = testKafka();
    const topic = await freshTopic(kafka, 3);
    const producer = new BatchingProducer(kafka, testLogger);
    await producer.connect();
    await producer.send(topic, [{ key: 'IO/218', value: 'hello' }]);
    await producer.close();
    const [message] = await consumeAll(kafka, topic, 1);
    expect(message?.value?.toString()).toBe('hello');
  });

  it('writes and reads Redis, and clears one key space without touching another', async () => {
    const mine = new KeySpace(uniqueName('smoke'));
    const other = new KeySpace(uniqueName('smoke-other'));
    await redis.set(mine.key('a'), '1');
    await redis.hset(mine.key('b'), { x: '1' });
    await redis.set(other.key('a'), '2');
    expect(await redis.get(mine.key('a'))).toBe('1');
    expect(await mine.clear(redis)).toBe(2);
    expect(await redis.get(mine.key('a'))).toBeNull();
    expect(await redis.get(other.key('a'))).toBe('2');
    await other.clear(redis);
  });
});
