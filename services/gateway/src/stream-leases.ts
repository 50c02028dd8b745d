import type { KeySpace, RedisClient as Redis } from '@consult/redis';

/**
 * KEYS: the principal's lease set. ARGV: stream id, cap, lease (ms). Expired leases (a gateway that died with
 * streams open) are dropped first; the cap then counts every gateway's streams. Redis's own clock times the
 * leases, so the gateways' clocks need not agree.
 */
const ACQUIRE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease)
return 1
`;

/**
 * KEYS: one principal's lease set; ARGV: lease (ms), then the stream ids this gateway holds there. Extends
 * leases that are still held. One key per call: on a Redis Cluster the principals' sets lie in other slots.
 */
const RENEW_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + lease, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], lease)
return 1
`;

/**
 * The open `GET /v1/events` streams of each principal, counted in Redis so the cap holds across every gateway
 * (N gateways must not allow N × cap). Each open stream holds a lease in its principal's sorted set (member =
 * stream id, score = when the lease lapses); the gateway renews the leases of its open streams every third of
 * the lease and drops them when the streams close, so the streams of a gateway that died stop counting within
 * one lease.
 */
export class StreamLeases {
  private readonly held = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    private readonly leaseMs = 30_000,
  ) {}

  private key(principal: string): string {
    return this.keys.key('events', 'streams', principal);
  }

  /** Takes a place for this stream if the principal holds fewer than `cap`; false otherwise. */
  async acquire(principal: string, streamId: string, cap: number): Promise<boolean> {
    const taken = (await this.redis.eval(ACQUIRE_LUA, 1, this.key(principal), streamId, cap, this.leaseMs)) === 1;
    if (taken) {
      this.held.set(streamId, principal);
      this.renewSoon();
    }
    return taken;
  }

  async release(principal: string, streamId: string): Promise<void> {
    this.held.delete(streamId);
    if (this.held.size === 0) this.stopRenewing();
    await this.redis.zrem(this.key(principal), streamId);
  }

  private renewSoon(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  private stopRenewing(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Extends every lease this gateway holds, one script call per principal; a failure is retried at the next tick. */
  async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const byPrincipal = new Map<string, string[]>();
    for (const [id, principal] of this.held) {
      const ids = byPrincipal.get(principal);
      if (ids) ids.push(id);
      else byPrincipal.set(principal, [id]);
    }
    await Promise.all(
      [...byPrincipal].map(([principal, ids]) => this.redis.eval(RENEW_LUA, 1, this.key(principal), this.leaseMs, ...ids).catch(() => undefined)),
    );
  }

  stop(): void {
    this.stopRenewing();
  }
}
