import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { testLogger, uniqueName } from '../../../tests/support/kafka.js';
import { createRedis, KeySpace } from './client.js';
import { bindKeySpaceToCluster, KeySpaceMismatch } from './cluster-binding.js';

describe('a key space belongs to the Kafka cluster it was derived from', () => {
  const redis = createRedis(inject('redisUrl'), testLogger);
  afterAll(() => redis.disconnect());

  it('is claimed once, then matched; another cluster is refused, or cleared by the launcher', async () => {
    const keys = new KeySpace(uniqueName('binding'));
    expect(await bindKeySpaceToCluster(redis, keys, 'cluster-a', 'fail')).toBe('claimed');
    await redis.hset(keys.key('offsets', 'projector'), { 'consultation.events:0': '41' });
    expect(await bindKeySpaceToCluster(redis, keys, 'cluster-a', 'fail')).toBe('matched');
    await expect(bindKeySpaceToCluster(redis, keys, 'cluster-b', 'fail')).rejects.toBeInstanceOf(KeySpaceMismatch);
    expect(await redis.hget(keys.key('offsets', 'projector'), 'consultation.events:0')).toBe('41');
    expect(await bindKeySpaceToCluster(redis, keys, 'cluster-b', 'reset')).toBe('reset');
    expect(await redis.exists(keys.key('offsets', 'projector'))).toBe(0);
    expect(await bindKeySpaceToCluster(redis, keys, 'cluster-b', 'fail')).toBe('matched');
    await keys.clear(redis);
  });

  it('lets the launcher clear a key space of unknown origin (no cluster recorded)', async () => {
    const keys = new KeySpace(uniqueName('binding'));
    await redis.set(keys.key('cons', 'x'), 'left by an older run');
    expect(await bindKeySpaceToCluster(redis, keys, 'cluster-a', 'reset')).toBe('reset');
    expect(await redis.exists(keys.key('cons', 'x'))).toBe(0);
    await keys.clear(redis);
  });
});
