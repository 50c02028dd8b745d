import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, type RedisCluster } from '../../../tests/support/redis-cluster.js';
import { testLogger, uniqueName } from '../../../tests/support/kafka.js';
import { Cluster, createRedis, createRedisClient, KeySpace, Redis } from './client.js';
import type { RedisClient } from './slots.js';
import { RedisOffsetStore } from './offsets.js';
import { RedisUrlError } from './redis-url.js';

/**
 * REDIS_URL=redis+cluster://seed,seed… gives an ioredis Cluster, against a three-master cluster of this file's
 * own (infra/redis/redis-cluster.sh; ports REDIS_CLUSTER_TEST_PORTS / REDIS_CLUSTER_TEST_BUS_PORTS). Also pins
 * down what the read models' key layout respects there: keys written together share a hash slot, and a
 * key-space scan looks at every master.
 */
const ports = (value: string): number[] => value.split(',').map(Number);
const PORTS = ports(process.env.REDIS_CLUSTER_TEST_PORTS ?? '17001,17002,17003');
const BUS_PORTS = ports(process.env.REDIS_CLUSTER_TEST_BUS_PORTS ?? '17101,17102,17103');

describe('REDIS_URL naming a Redis Cluster', () => {
  let cluster: RedisCluster | undefined;
  let client: RedisClient | undefined;

  beforeAll(async () => {
    cluster = await startRedisCluster(PORTS, BUS_PORTS);
  }, 90_000);
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  }, 60_000);

  it('connects through the seeds to every master, and spreads keys over them', async () => {
    expect(cluster!.url).toBe(`redis+cluster://${PORTS.map((p) => `127.0.0.1:${p}`).join(',')}`);
    client = createRedisClient(cluster!.url, testLogger);
    expect(client).toBeInstanceOf(Cluster);
    const prefix = uniqueName('rc');
    const keys = Array.from({ length: 30 }, (_, i) => `${prefix}:k${i}`);
    for (const [i, key] of keys.entries()) await client.set(key, String(i));
    expect(await Promise.all(keys.map((k) => client!.get(k)))).toEqual(keys.map((_, i) => String(i)));
    const masters = (client as Cluster).nodes('master');
    expect(masters).toHaveLength(3);
    const perMaster = await Promise.all(masters.map((m) => m.dbsize()));
    expect(perMaster.filter((n) => n > 0).length).toBe(3);
  });

  it('runs a transaction over keys of one hash tag, and refuses one over keys of several slots (CROSSSLOT)', async () => {
    const redis = client as Cluster;
    const tag = `{${uniqueName('cons')}}`;
    const together = await redis.multi().hset(`cms:${tag}:view`, 'status', 'open').incr(`cms:${tag}:seq`).exec();
    expect(together?.map(([error]) => error)).toEqual([null, null]);
    const apart = redis.multi().set(`cms:${uniqueName('a')}`, '1').set(`cms:${uniqueName('b')}`, '1');
    await expect(apart.exec()).rejects.toThrow(/CROSSSLOT|slot/i);
  });

  it('applies a batch and its offset in one script when every key carries the offsets hash’s tag, and refuses one that does not', async () => {
    const redis = client as Cluster;
    const keys = new KeySpace(uniqueName('rc-batch'));
    const store = new RedisOffsetStore(keys, 'test', { tagOf: (_topic, partition) => `p${partition}`, tags: ['p0', 'p1'] });
    const good = [
      ['hset', keys.tagged('p1', 'cons', 'a'), 'status', 'open'],
      ['rpush', keys.tagged('p1', 'cons', 'a', 'history'), '{}'],
      ['publish', keys.key('projected'), '{}'],
    ];
    expect(await store.applyAt(redis, 't', 1, 0n, '0', good)).toBeNull();
    expect(await store.nextOffsets(redis)).toEqual(new Map([['t:1', 1n]]));
    // A key of another tag in the batch: Redis refuses the script (CROSSSLOT) before running any of it.
    const bad = [['hset', keys.tagged('p0', 'cons', 'b'), 'status', 'open']];
    await expect(store.applyAt(redis, 't', 1, 1n, '1', bad)).rejects.toThrow(/slot|CROSSSLOT/i);
    expect(await redis.exists(keys.tagged('p0', 'cons', 'b'))).toBe(0);
    // Clearing the key space finds its keys on every master.
    for (let i = 0; i < 30; i++) await redis.set(keys.tagged(`x${i}`, 'k'), '1');
    expect(await keys.clear(redis)).toBe(30 + 3);
    expect(await keys.clear(redis)).toBe(0);
  });

  it('leaves a single Redis the default; createRedis (for tools that measure one Redis) refuses a cluster URL plainly', () => {
    const single = createRedisClient('redis://127.0.0.1:1', testLogger, { lazyConnect: true });
    expect(single).toBeInstanceOf(Redis);
    single.disconnect();
    expect(() => createRedis(cluster!.url, testLogger)).toThrow(RedisUrlError);
  });
});
