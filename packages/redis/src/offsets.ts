import type { ChainableCommander, Redis } from 'ioredis';
import type { KeySpace } from './client.js';

/**
 * Writes a batch's commands and its consumer offset as one step, but only if the stored offset is still the
 * one the consumer resumed from. KEYS[1] is the offsets hash; ARGV: field, expected stored value ('' for none),
 * new stored value, then the commands as JSON `[[name, key, ...args], …]`. Returns `{1}` when applied and
 * `{0, stored}` when the store moved (flushed, restored, or this very batch already applied after a lost
 * reply): then nothing is written, so a batch is never applied twice and never on top of a flushed key space.
 * Keys are not declared, so this is for a standalone Redis, not a cluster.
 */
const APPLY_AT_OFFSET_LUA = `local stored = redis.call('HGET', KEYS[1], ARGV[1])
if stored == false then stored = '' end
if stored ~= ARGV[2] then return {0, stored} end
local commands = cjson.decode(ARGV[4])
for i = 1, #commands do redis.call(unpack(commands[i])) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return {1}`;

/**
 * Consumer progress kept beside the read models it produced: the offsets are written in the same atomic step
 * as the effects, so after a crash a consumer resumes exactly where its effects end, and after a Redis flush it
 * finds no offsets and rebuilds from the beginning of the topics.
 */
export class RedisOffsetStore {
  readonly hashKey: string;
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

  /** Adds the offset write to a MULTI that also holds the effects (for a key space nobody else writes: rebuilds). */
  record(multi: ChainableCommander, topic: string, partition: number, lastAppliedOffset: string): void {
    multi.hset(this.hashKey, `${topic}:${partition}`, lastAppliedOffset);
  }

  /**
   * Applies `commands` and stores `lastAppliedOffset` atomically if the store still says the partition's next
   * offset is `expectedNext`. Returns null when applied, or the next offset the store holds instead (0 after a
   * flush), where the consumer must resume.
   */
  async applyAt(
    redis: Redis,
    topic: string,
    partition: number,
    expectedNext: bigint,
    lastAppliedOffset: string,
    commands: string[][],
  ): Promise<bigint | null> {
    const expected = expectedNext === 0n ? '' : (expectedNext - 1n).toString();
    const reply = (await redis.eval(
      APPLY_AT_OFFSET_LUA,
      1,
      this.hashKey,
      RedisOffsetStore.field(topic, partition),
      expected,
      lastAppliedOffset,
      JSON.stringify(commands),
    )) as [number, string?];
    if (reply[0] === 1) return null;
    return reply[1] ? BigInt(reply[1]) + 1n : 0n;
  }

  static field(topic: string, partition: number): string {
    return `${topic}:${partition}`;
  }
}
