import type { ChainableCommander, Redis } from 'ioredis';
import type { KeySpace } from './client.js';

/**
 * Consumer progress kept beside the read models it produced: the offsets are written in the same MULTI as
 * the effects, so after a crash a projector resumes exactly where its effects end, and after a Redis flush it
 * finds no offsets and rebuilds from the beginning of the topics.
 */
export class RedisOffsetStore {
  private readonly hashKey: string;
  constructor(keys: KeySpace, consumerName: string) {
    this.hashKey = keys.key('offsets', consumerName);
  }

  /** Next offset to read per topic partition (the stored value is the last applied offset). */
  async nextOffsets(redis: Redis): Promise<Map<string, bigint>> {
    const stored = await redis.hgetall(this.hashKey);
    const result = new Map<string, bigint>();
    for (const [field, value] of Object.entries(stored)) result.set(field, BigInt(value) + 1n);
    return result;
  }

  /** Adds the offset write to a MULTI that also holds the effects. */
  record(multi: ChainableCommander, topic: string, partition: number, lastAppliedOffset: string): void {
    multi.hset(this.hashKey, `${topic}:${partition}`, lastAppliedOffset);
  }

  static field(topic: string, partition: number): string {
    return `${topic}:${partition}`;
  }
}
