import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

export { Redis } from 'ioredis';
export type { ChainableCommander } from 'ioredis';

/**
 * A Redis connection for derived state only: nothing here is a system of record, so persistence settings of
 * the server do not matter and a flush is always recoverable from Kafka.
 */
export function createRedis(url: string, logger: Logger, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 3,
    enableAutoPipelining: true,
    lazyConnect: false,
    ...options,
  });
  redis.on('error', (error: Error) => logger.warn({ err: error }, 'redis error'));
  return redis;
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
