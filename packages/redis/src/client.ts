import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { isClusterUrl, parseRedisUrl, RedisUrlError } from './redis-url.js';
import { scanKeys, type RedisClient } from './slots.js';

export { Cluster, Redis } from 'ioredis';
export type { ChainableCommander } from 'ioredis';

/**
 * A Redis connection for derived state only: nothing here is a system of record, so persistence settings of
 * the server do not matter and a flush is always recoverable from Kafka. A single Redis, for the tools that
 * measure one (the benchmarks); the services take either with `createRedisClient`.
 */
export function createRedis(url: string, logger: Logger, options: RedisOptions = {}): Redis {
  if (isClusterUrl(url)) throw new RedisUrlError('names a Redis Cluster, where a single Redis (redis://host:port) is needed');
  const redis = new Redis(url, {
    maxRetriesPerRequest: 3,
    enableAutoPipelining: true,
    lazyConnect: false,
    ...options,
  });
  redis.on('error', (error: Error) => logger.warn({ err: error }, 'redis error'));
  return redis;
}

/**
 * One Redis for `redis://` and `rediss://` URLs (as `createRedis`), an ioredis `Cluster` for
 * `redis+cluster://seed,seed…` (see `parseRedisUrl`). `options` apply to every node's connection; `cluster` to
 * the cluster client itself.
 */
export function createRedisClient(url: string, logger: Logger, options: RedisOptions = {}, cluster: ClusterOptions = {}): RedisClient {
  const target = parseRedisUrl(url);
  if (target.kind === 'single') return createRedis(url, logger, options);
  const client = new Cluster(
    target.nodes.map((n) => ({ host: n.host, port: n.port })),
    {
      enableAutoPipelining: true,
      lazyConnect: false,
      ...cluster,
      redisOptions: {
        maxRetriesPerRequest: 3,
        ...(target.username !== undefined ? { username: target.username } : {}),
        ...(target.password !== undefined ? { password: target.password } : {}),
        ...(target.tls ? { tls: {} } : {}),
        ...options,
        ...cluster.redisOptions,
      },
    },
  );
  client.on('error', (error: Error) => logger.warn({ err: error }, 'redis cluster error'));
  return client;
}

/**
 * Every key of a deployment lives under one prefix, so a rebuild can target a fresh key space beside the live
 * one. Keys that one atomic step writes together carry one hash tag (`tagged`), so on a Redis Cluster they share
 * a slot; the tag does not include the prefix, so a key's name relative to the prefix is the same in every
 * key space (a rebuild compares them so).
 */
export class KeySpace {
  constructor(readonly prefix: string) {
    if (/[{}]/.test(prefix)) throw new RedisUrlError(`key prefix '${prefix}' must not contain { or } (they mark hash tags)`);
  }
  key(...parts: (string | number)[]): string {
    return [this.prefix, ...parts].join(':');
  }
  /** `<prefix>:{<tag>}:<parts…>`: a key in the hash slot of `tag`. */
  tagged(tag: string, ...parts: (string | number)[]): string {
    return [this.prefix, `{${tag}}`, ...parts].join(':');
  }
  /** Deletes every key of this key space (SCAN + UNLINK on every master of a cluster), leaving other prefixes alone. */
  async clear(redis: RedisClient): Promise<number> {
    let removed = 0;
    await scanKeys(redis, `${globEscape(this.prefix)}:*`, async (keys, node) => {
      // One UNLINK per key: on a cluster node, one command may only name keys of one slot.
      const counts = await Promise.all(keys.map((key) => node.unlink(key)));
      for (const n of counts) removed += n;
    });
    return removed;
  }
}

/** `text` as a literal in a SCAN/KEYS glob pattern. */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
