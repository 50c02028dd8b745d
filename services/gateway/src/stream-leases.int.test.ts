import { afterAll, describe, expect, inject, it } from 'vitest';
import { createRedis, KeySpace } from '@consult/redis';
import { testLogger, uniqueName } from '../../../tests/support/kafka.js';
import { StreamLeases } from './stream-leases.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two instances stand for two gateways on one Redis. */
describe('event stream leases shared by the gateways', () => {
  const redis = createRedis(inject('redisUrl'), testLogger);
  const keys = new KeySpace(uniqueName('leases'));
  afterAll(async () => {
    await keys.clear(redis);
    redis.disconnect();
  });

  it('caps a principal across gateways, frees a place on release, and keeps renewed leases', async () => {
    const [a, b] = [new StreamLeases(redis, keys, 600), new StreamLeases(redis, keys, 600)];
    expect(await a.acquire('member-state:KHM', 's1', 2)).toBe(true);
    expect(await b.acquire('member-state:KHM', 's2', 2)).toBe(true);
    expect(await a.acquire('member-state:KHM', 's3', 2)).toBe(false);
    expect(await b.acquire('member-state:KHM', 's3', 2)).toBe(false);
    expect(await b.acquire('member-state:THA', 's4', 2)).toBe(true);
    // Held past several lease lengths: the gateways renew them.
    await sleep(1_500);
    expect(await a.acquire('member-state:KHM', 's3', 2)).toBe(false);
    await b.release('member-state:KHM', 's2');
    expect(await a.acquire('member-state:KHM', 's3', 2)).toBe(true);
    for (const [leases, who, id] of [[a, 'member-state:KHM', 's1'], [a, 'member-state:KHM', 's3'], [b, 'member-state:THA', 's4']] as const)
      await leases.release(who, id);
  });

  it('stops counting the streams of a gateway that died once their leases lapse', async () => {
    const [dead, alive] = [new StreamLeases(redis, keys, 400), new StreamLeases(redis, keys, 400)];
    expect(await dead.acquire('cso:c-1', 'd1', 1)).toBe(true);
    expect(await alive.acquire('cso:c-1', 'a1', 1)).toBe(false);
    dead.stop(); // no more renewals, no release: as if the process were killed
    await sleep(600);
    expect(await alive.acquire('cso:c-1', 'a1', 1)).toBe(true);
    await alive.release('cso:c-1', 'a1');
  });
});
