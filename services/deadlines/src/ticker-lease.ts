import { randomUUID } from 'node:crypto';
import type { RedisClient as Redis } from '@consult/redis';

/** Takes the lease if it is free or already ours, and extends it; 1 if held afterwards. */
const HOLD = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Which deadline-service instance sends due jobs: every instance keeps the schedule of its own partitions,
 * but one shared schedule with several tickers would send each due job once per instance. The lease lives in
 * Redis (coordination, not a record: a flush or an expiry only lets another instance take over). Two holders
 * at once (a holder stalled past `ttlMs`) only send a job twice, which the writer answers as a replay.
 */
export class TickerLease {
  private readonly id = randomUUID();

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly ttlMs = 5_000,
  ) {}

  /** Whether this instance holds the lease now (taking or extending it). */
  async hold(): Promise<boolean> {
    return (await this.redis.eval(HOLD, 1, this.key, this.id, String(this.ttlMs))) === 1;
  }

  /** Gives the lease up at once, so another instance need not wait for it to expire. */
  async release(): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key, this.id);
  }
}
