import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { isClusterUrl, parseRedisUrl } from './redis-url.js';

export { Cluster, Redis } from 'ioredis';
export type { ChainableCommander } from 'ioredis';

/** A connection to one Redis or to a Redis Cluster (`createRedisClient`). */
export type RedisClient = Redis | Cluster;

/**
 * REDIS_URL names a Redis Cluster but the caller needs a single Redis: the read models do not yet keep the keys
 * one update touches in one hash slot, so on a cluster their transactions and scripts would fail (CROSSSLOT)
 * and key-space scans would see one node only. Refused at start-up rather than failing at the first write.
 */
export class RedisClusterUnsupported extends Error {
  readonly code = 'REDIS_CLUSTER_UNSUPPORTED';
  readonly retriable = false;
  constructor() {
    super(
      'REDIS_URL names a Redis Cluster (redis+cluster://…), but this process needs a single Redis: its read models ' +
        'do not yet keep the keys of one update in one hash slot. Use a single Redis (redis://host:port).',
    );
    this.name = 'RedisClusterUnsupported';
  }
}

/**
 * A Redis connection for derived state only: nothing here is a system of record, so persistence settings of
 * the server do not matter and a flush is always recoverable from Kafka. A single Redis: a cluster URL is
 * refused with `RedisClusterUnsupported` (`createRedisClient` accepts both).
 */
export function createRedis(url: string, logger: Logger, options: RedisOptions = {}): Redis {
  if (isClusterUrl(url)) throw new RedisClusterUnsupported();
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

/** Every key of a deployment lives under one prefix, so a rebuild can target a fresh key space beside the live one. */
export class KeySpace {
  constructor(readonly prefix: string) {}
  key(...parts: (string | number)[]): string {
    return [this.prefix, ...parts].join(':');
  }
  /** Deletes every key of this key space (SCAN + UNLINK), leaving other prefixes alone. */
  async clear(redis: Redis): Promise<number> {
    let cursor = '0';
    let removed = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
    return removed;
  }
}
