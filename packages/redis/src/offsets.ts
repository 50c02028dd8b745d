import type { ChainableCommander } from 'ioredis';
import type { KeySpace } from './client.js';
import { CALL_DECLARED_LUA, declareKeys, type RedisClient } from './slots.js';

/**
 * Writes a batch's commands and its consumer offset as one step, but only if the stored offset is still the
 * one the consumer resumed from. KEYS[1] is the offsets hash of the batch's hash tag, KEYS[2…] every key the
 * commands touch (declared, as a cluster requires; `declareKeys`); ARGV: field, expected stored value ('' for
 * none), new stored value, then the commands as JSON. Returns `{1}` when applied and `{0, stored}` when the
 * store moved (flushed, restored, or this very batch already applied after a lost reply): then nothing is
 * written, so a batch is never applied twice and never on top of a flushed key space.
 */
const APPLY_AT_OFFSET_LUA = `${CALL_DECLARED_LUA}
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if stored == false then stored = '' end
if stored ~= ARGV[2] then return {0, stored} end
run(cjson.decode(ARGV[4]))
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return {1}`;

/**
 * Where a consumer's offsets live: the hash tag of each topic partition it consumes (the tag every key its
 * batches of that partition write carries), and every such tag, so all of them can be read back.
 */
export interface OffsetLayout {
  tagOf(topic: string, partition: number): string;
  readonly tags: readonly string[];
}

/**
 * Consumer progress kept beside the read models it produced: the offsets are written in the same atomic step
 * as the effects, so after a crash a consumer resumes exactly where its effects end, and after a Redis flush it
 * finds no offsets and rebuilds from the beginning of the topics. One offsets hash per hash tag
 * (`<prefix>:{<tag>}:offsets:<consumer>`, fields `<topic>:<partition>`), so a batch and its offset share a slot.
 */
export class RedisOffsetStore {
  constructor(
    private readonly keys: KeySpace,
    private readonly consumerName: string,
    readonly layout: OffsetLayout,
  ) {}

  /** The hash holding the offset of `topic`'s `partition`. */
  hashKeyOf(topic: string, partition: number): string {
    return this.hashKeyOfTag(this.layout.tagOf(topic, partition));
  }

  private hashKeyOfTag(tag: string): string {
    return this.keys.tagged(tag, 'offsets', this.consumerName);
  }

  /** Next offset to read per topic partition (the stored value is the last applied offset), from every tag's hash. */
  async nextOffsets(redis: RedisClient): Promise<Map<string, bigint>> {
    const hashes = await Promise.all(this.layout.tags.map((tag) => redis.hgetall(this.hashKeyOfTag(tag))));
    const result = new Map<string, bigint>();
    for (const stored of hashes) for (const [field, value] of Object.entries(stored)) result.set(field, BigInt(value) + 1n);
    return result;
  }

  /** Whether an offset is stored for the partition (it has been projected from at least once). */
  async has(redis: RedisClient, topic: string, partition: number): Promise<boolean> {
    return (await redis.hexists(this.hashKeyOf(topic, partition), RedisOffsetStore.field(topic, partition))) === 1;
  }

  /** Adds the offset write to a MULTI that also holds the effects (for a key space nobody else writes: rebuilds). */
  record(multi: ChainableCommander, topic: string, partition: number, lastAppliedOffset: string): void {
    multi.hset(this.hashKeyOf(topic, partition), RedisOffsetStore.field(topic, partition), lastAppliedOffset);
  }

  /**
   * Applies `commands` and stores `lastAppliedOffset` atomically if the store still says the partition's next
   * offset is `expectedNext`. Returns null when applied, or the next offset the store holds instead (0 after a
   * flush), where the consumer must resume. On a cluster every key of `commands` must carry the partition's tag.
   */
  async applyAt(
    redis: RedisClient,
    topic: string,
    partition: number,
    expectedNext: bigint,
    lastAppliedOffset: string,
    commands: string[][],
  ): Promise<bigint | null> {
    const expected = expectedNext === 0n ? '' : (expectedNext - 1n).toString();
    const { keys, json } = declareKeys(commands, 2);
    const reply = (await redis.eval(
      APPLY_AT_OFFSET_LUA,
      1 + keys.length,
      this.hashKeyOf(topic, partition),
      ...keys,
      RedisOffsetStore.field(topic, partition),
      expected,
      lastAppliedOffset,
      json,
    )) as [number, string?];
    if (reply[0] === 1) return null;
    return reply[1] ? BigInt(reply[1]) + 1n : 0n;
  }

  static field(topic: string, partition: number): string {
    return `${topic}:${partition}`;
  }
}
