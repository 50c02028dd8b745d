import {
  STREAM_PARTITIONS,
  type Audience,
  type ConsultationEvent,
  type CsoEvent,
  type DeliveryRecord,
  type SubscriptionEvent,
} from '@consult/contracts';
import type { ChainableCommander, KeySpace, RedisClient as Redis } from '@consult/redis';
import { deliveryTagOf, LIVE_TAG, SUBSCRIPTION_TAG } from './layout.js';

export interface SubscriptionOwner {
  kind: 'secretariat' | 'member-state' | 'cso' | 'standing-committee' | 'auditor' | 'system';
  id: string;
}

/** A subscription as the API shows it: never with its secret. */
export interface SubscriptionView {
  id: string;
  owner: SubscriptionOwner;
  url: string;
  events: string[];
  createdAt: string;
}

export interface DeliveryAttemptView {
  round: number;
  attempt: number;
  at: string;
  durationMs: number;
  statusCode?: number;
  error?: string;
  outcome: 'succeeded' | 'failed';
}

export type DeliveryStatus = 'pending' | 'delivered' | 'dead-lettered';

export interface DeliveryView {
  deliveryId: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  consultationId: string;
  /** For statement events: the statement (then `consultationId` is its organisation's id, the stream key). */
  statementId?: string;
  requestedAt: string;
  status: DeliveryStatus;
  attempts: DeliveryAttemptView[];
}

/** One entry of the live stream, as read from Redis. */
export interface StreamEntry {
  /** Index in the cursor: consultation partitions first, then the partitions of `cso.events`. */
  partition: number;
  /** Position of the event in its partition of the events topic, plus one (stream ids start at 1). */
  position: number;
  event: ConsultationEvent | CsoEvent;
  audience: Audience;
}

/**
 * KEYS: the owner's subscription index, its reservations. ARGV: subscription id, cap, reservation ttl (ms).
 * Redis's own clock times the reservations, so gateways' clocks need not agree.
 */
const RESERVE_SUBSCRIPTION_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id, cap, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZSCORE', KEYS[1], id) or redis.call('ZSCORE', KEYS[2], id) then return 1 end
local taken = redis.call('ZCARD', KEYS[1])
for _, reserved in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if not redis.call('ZSCORE', KEYS[1], reserved) then taken = taken + 1 end
end
if taken >= cap then return 0 end
redis.call('ZADD', KEYS[2], now + ttl, id)
redis.call('PEXPIRE', KEYS[2], ttl)
return 1
`;

/** How many events each partition's live stream keeps (approximately: MAXLEN ~). */
export const LIVE_STREAM_CAP = 10_000;

/**
 * The Redis layout of subscriptions, deliveries and the live event stream, all under `<prefix>:notif:`. The
 * notifier's projector appends effects to a MULTI without reading; the gateway reads. Everything is derived
 * from `subscription.events`, `notification.deliveries` and `consultation.events`, and rebuilt after a flush.
 *
 * The live stream is one Redis stream per partition of the consultation events topic whose entry ids are the
 * Kafka offsets (+1): ids are stable across a flush and rebuild, so a client's `Last-Event-ID` (a cursor of one
 * position per partition) stays meaningful, and order within a consultation is kept.
 */
export class NotificationReadModel {
  constructor(readonly keys: KeySpace) {}

  // Hash tags (`layout.ts`): subscriptions and their owners' indexes under `{sub}` (one partition); a
  // subscription's deliveries under `{d<n>}`, n its partition of `notification.deliveries`; the live streams and
  // what their batches remember under `{live}`, so one XREAD reads every partition's stream.
  private subscription(id: string): string {
    return this.keys.tagged(SUBSCRIPTION_TAG, 'notif', 'sub', id);
  }
  private ownerIndex(owner: SubscriptionOwner): string {
    return this.keys.tagged(SUBSCRIPTION_TAG, 'notif', 'owner', owner.kind, owner.id);
  }
  private deliveryIndex(subscriptionId: string): string {
    return this.keys.tagged(deliveryTagOf(subscriptionId), 'notif', 'sub', subscriptionId, 'deliveries');
  }
  private delivery(subscriptionId: string, deliveryId: string): string {
    return this.keys.tagged(deliveryTagOf(subscriptionId), 'notif', 'delivery', deliveryId);
  }
  private attempts(subscriptionId: string, deliveryId: string): string {
    return this.keys.tagged(deliveryTagOf(subscriptionId), 'notif', 'delivery', deliveryId, 'attempts');
  }
  addresseesKey(consultationId: string): string {
    return this.keys.tagged(LIVE_TAG, 'notif', 'addressees', consultationId);
  }
  streamKey(partition: number): string {
    return this.keys.tagged(LIVE_TAG, 'notif', 'stream', partition);
  }
  /** The live stream of one partition of `cso.events` (statement events). */
  statementStreamKey(partition: number): string {
    return this.keys.tagged(LIVE_TAG, 'notif', 'cso-stream', partition);
  }
  /** The stream behind one position of a cursor: consultation partitions, then statement partitions. */
  private cursorKey(index: number): string {
    return index < STREAM_PARTITIONS ? this.streamKey(index) : this.statementStreamKey(index - STREAM_PARTITIONS);
  }
  private coSignersKey(statementId: string): string {
    return this.keys.tagged(LIVE_TAG, 'notif', 'cosigners', statementId);
  }

  // ---- writes (notifier projector) ----

  applySubscription(multi: ChainableCommander, event: SubscriptionEvent): void {
    if (event.type === 'subscription.created') {
      const d = event.data;
      const view: SubscriptionView = { id: d.subscriptionId, owner: d.owner, url: d.url, events: d.events, createdAt: d.createdAt };
      multi.set(this.subscription(d.subscriptionId), JSON.stringify(view));
      multi.zadd(this.ownerIndex(d.owner), Date.parse(d.createdAt), d.subscriptionId);
      if ('sealedSecret' in d && d.sealedSecret) multi.sadd(this.secretKeyRefs(d.subscriptionId), d.sealedSecret.keyRef);
    } else if (event.type === 'subscription.secret-rotated') {
      multi.sadd(this.secretKeyRefs(event.data.subscriptionId), event.data.sealedSecret.keyRef);
    } else {
      const d = event.data;
      multi.del(this.subscription(d.subscriptionId));
      multi.zrem(this.ownerIndex(d.owner), d.subscriptionId);
      multi.del(this.secretKeyRefs(d.subscriptionId));
    }
  }

  private secretKeyRefs(subscriptionId: string): string {
    return this.keys.tagged(SUBSCRIPTION_TAG, 'notif', 'sub', subscriptionId, 'keyrefs');
  }

  /** The data keys of a subscription's secrets (current and past), to destroy when it is deleted. */
  async secretKeyRefsOf(redis: Redis, subscriptionId: string): Promise<string[]> {
    return redis.smembers(this.secretKeyRefs(subscriptionId));
  }

  applyDelivery(multi: ChainableCommander, record: DeliveryRecord): void {
    const d = record.data;
    const key = this.delivery(d.subscriptionId, d.deliveryId);
    switch (record.type) {
      case 'delivery.requested':
        multi.hset(key, {
          deliveryId: d.deliveryId,
          subscriptionId: d.subscriptionId,
          eventId: record.data.eventId,
          eventType: record.data.eventType,
          consultationId: record.data.consultationId,
          ...(record.data.statementId !== undefined ? { statementId: record.data.statementId } : {}),
          requestedAt: record.data.requestedAt,
          status: 'pending',
        });
        multi.zadd(this.deliveryIndex(d.subscriptionId), Date.parse(record.data.requestedAt), d.deliveryId);
        break;
      case 'delivery.attempted': {
        const a = record.data;
        const attempt: DeliveryAttemptView = { round: a.round, attempt: a.attempt, at: a.at, durationMs: a.durationMs, outcome: a.outcome };
        if (a.statusCode !== undefined) attempt.statusCode = a.statusCode;
        if (a.error !== undefined) attempt.error = a.error;
        multi.rpush(this.attempts(d.subscriptionId, d.deliveryId), JSON.stringify(attempt));
        if (a.outcome === 'succeeded') multi.hset(key, { status: 'delivered' });
        break;
      }
      case 'delivery.dead-lettered':
        multi.hset(key, { status: 'dead-lettered' });
        break;
      case 'delivery.redelivery-requested':
        multi.hset(key, { status: 'pending' });
        break;
    }
  }

  /** Remembers a consultation's addressees (only `deadline-extended` needs them to find its audience). */
  setAddressees(multi: ChainableCommander, consultationId: string, addressees: readonly string[]): void {
    multi.set(this.addresseesKey(consultationId), JSON.stringify(addressees));
  }

  async addresseesOf(redis: Redis, consultationIds: readonly string[]): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>();
    if (consultationIds.length === 0) return result;
    const values = await redis.mget(...consultationIds.map((id) => this.addresseesKey(id)));
    consultationIds.forEach((id, i) => {
      const raw = values[i];
      if (raw) result.set(id, JSON.parse(raw) as string[]);
    });
    return result;
  }

  appendToStream(multi: ChainableCommander, partition: number, offset: string, event: ConsultationEvent, audience: Audience): void {
    const id = `${BigInt(offset) + 1n}-0`;
    multi.xadd(this.streamKey(partition), 'MAXLEN', '~', LIVE_STREAM_CAP, id, 'e', JSON.stringify(event), 'a', JSON.stringify(audience));
  }

  /** A statement event joins the live stream of its `cso.events` partition (ids = Kafka offsets + 1, as above). */
  appendToStatementStream(multi: ChainableCommander, partition: number, offset: string, event: CsoEvent, audience: Audience): void {
    const id = `${BigInt(offset) + 1n}-0`;
    multi.xadd(this.statementStreamKey(partition), 'MAXLEN', '~', LIVE_STREAM_CAP, id, 'e', JSON.stringify(event), 'a', JSON.stringify(audience));
  }

  /** Remembers a statement's co-signers: its later events reach them too. */
  setCoSigners(multi: ChainableCommander, statementId: string, coSigners: readonly string[]): void {
    multi.set(this.coSignersKey(statementId), JSON.stringify(coSigners));
  }

  async coSignersOf(redis: Redis, statementIds: readonly string[]): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>();
    if (statementIds.length === 0) return result;
    const values = await redis.mget(...statementIds.map((id) => this.coSignersKey(id)));
    statementIds.forEach((id, i) => {
      const raw = values[i];
      if (raw) result.set(id, JSON.parse(raw) as string[]);
    });
    return result;
  }

  // ---- reads (gateway) ----

  async subscriptionById(redis: Redis, id: string): Promise<SubscriptionView | null> {
    const raw = await redis.get(this.subscription(id));
    return raw ? (JSON.parse(raw) as SubscriptionView) : null;
  }

  private subscriptionReservations(owner: SubscriptionOwner): string {
    return this.keys.tagged(SUBSCRIPTION_TAG, 'notif', 'owner', owner.kind, owner.id, 'reserved');
  }

  /**
   * Takes one of the owner's `cap` subscription places for `subscriptionId`, atomically (one Lua script), so
   * concurrent creations on any number of gateways cannot exceed the cap between reading the count and the
   * subscription being projected. Places are the projected subscriptions plus reservations not yet projected;
   * a reservation lapses after `ttlMs` (a gateway that died mid-creation), by which time what it created is
   * projected and counted as such. True if the place is taken (or was already this id's).
   */
  async reserveSubscription(redis: Redis, owner: SubscriptionOwner, subscriptionId: string, cap: number, ttlMs: number): Promise<boolean> {
    const reply = await redis.eval(RESERVE_SUBSCRIPTION_LUA, 2, this.ownerIndex(owner), this.subscriptionReservations(owner), subscriptionId, cap, ttlMs);
    return reply === 1;
  }

  /** Gives a reservation back: the subscription is projected (it counts in the index now), or was never created. */
  async releaseSubscriptionReservation(redis: Redis, owner: SubscriptionOwner, subscriptionId: string): Promise<void> {
    await redis.zrem(this.subscriptionReservations(owner), subscriptionId);
  }

  async subscriptionsOf(redis: Redis, owner: SubscriptionOwner): Promise<SubscriptionView[]> {
    const ids = await redis.zrange(this.ownerIndex(owner), 0, -1);
    const views = await Promise.all(ids.map((id) => this.subscriptionById(redis, id)));
    return views.filter((v): v is SubscriptionView => v !== null);
  }

  /** A delivery of a subscription (kept under the subscription's tag). */
  async deliveryById(redis: Redis, subscriptionId: string, deliveryId: string): Promise<DeliveryView | null> {
    const [[, fields], [, attempts]] = (await redis
      .multi()
      .hgetall(this.delivery(subscriptionId, deliveryId))
      .lrange(this.attempts(subscriptionId, deliveryId), 0, -1)
      .exec()) as [[unknown, Record<string, string>], [unknown, string[]]];
    if (!fields.deliveryId) return null;
    return {
      deliveryId: fields.deliveryId,
      subscriptionId: fields.subscriptionId ?? '',
      eventId: fields.eventId ?? '',
      eventType: fields.eventType ?? '',
      consultationId: fields.consultationId ?? '',
      ...(fields.statementId ? { statementId: fields.statementId } : {}),
      requestedAt: fields.requestedAt ?? '',
      status: (fields.status ?? 'pending') as DeliveryStatus,
      attempts: attempts.map((a) => JSON.parse(a) as DeliveryAttemptView),
    };
  }

  /** Newest first. */
  async deliveriesOf(
    redis: Redis,
    subscriptionId: string,
    options: { status?: DeliveryStatus; limit: number },
  ): Promise<DeliveryView[]> {
    const ids = await redis.zrevrange(this.deliveryIndex(subscriptionId), 0, options.status ? 999 : options.limit - 1);
    const views = await Promise.all(ids.map((id) => this.deliveryById(redis, subscriptionId, id)));
    return views
      .filter((v): v is DeliveryView => v !== null && (!options.status || v.status === options.status))
      .slice(0, options.limit);
  }

  // ---- live stream ----

  /** The cursor at the current end of every partition's stream: a new client starts from now. */
  async streamEnd(redis: Redis): Promise<number[]> {
    const pipeline = redis.pipeline();
    for (let p = 0; p < STREAM_CURSOR_LENGTH; p++) pipeline.xrevrange(this.cursorKey(p), '+', '-', 'COUNT', 1);
    const results = (await pipeline.exec()) ?? [];
    return results.map(([, entries]) => {
      const first = (entries as [string, string[]][] | null)?.[0];
      return first ? Number(first[0].split('-')[0]) : 0;
    });
  }

  /**
   * Reads entries after the cursor from every partition's stream, waiting up to `blockMs` for new ones. Use a
   * connection of its own: XREAD BLOCK holds the connection.
   */
  async readStream(connection: Redis, cursor: readonly number[], count: number, blockMs: number): Promise<StreamEntry[]> {
    const keys = cursor.map((_, p) => this.cursorKey(p));
    const ids = cursor.map((c) => `${c}-0`);
    const reply = await connection.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', ...keys, ...ids);
    const entries: StreamEntry[] = [];
    for (const [key, items] of reply ?? []) {
      const partition = keys.indexOf(key);
      for (const [id, fields] of items) {
        const values = new Map<string, string>();
        for (let i = 0; i < fields.length; i += 2) values.set(fields[i]!, fields[i + 1]!);
        entries.push({
          partition,
          position: Number(id.split('-')[0]),
          event: JSON.parse(values.get('e') ?? 'null') as ConsultationEvent | CsoEvent,
          audience: JSON.parse(values.get('a') ?? '{"secretariat":false,"memberStates":[]}') as Audience,
        });
      }
    }
    return entries;
  }
}

/** A cursor has one position per partition of `consultation.events`, then one per partition of `cso.events`. */
export const STREAM_CURSOR_LENGTH = 2 * STREAM_PARTITIONS;

/** `Last-Event-ID` of the live stream: one position per partition, joined by dots. */
export function formatStreamCursor(cursor: readonly number[]): string {
  return cursor.join('.');
}

/**
 * Parses a cursor: the full one, or one issued before statement events joined the stream (consultation
 * partitions only; the caller completes it, from the present, with `completeStreamCursor`).
 */
export function parseStreamCursor(value: string | undefined): number[] | null {
  if (!value) return null;
  const parts = value.split('.');
  if ((parts.length !== STREAM_PARTITIONS && parts.length !== STREAM_CURSOR_LENGTH) || !parts.every((p) => /^\d{1,15}$/.test(p)))
    return null;
  return parts.map(Number);
}

/** A cursor with the statement positions missing takes them from `end` (the present). */
export function completeStreamCursor(cursor: readonly number[], end: readonly number[]): number[] {
  return cursor.length >= STREAM_CURSOR_LENGTH ? [...cursor] : [...cursor, ...end.slice(cursor.length)];
}
