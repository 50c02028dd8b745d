import { DELIVERY_PARTITIONS, partitionOfKey, STREAM_PARTITIONS, type TopicNames } from '@consult/contracts';
import type { OffsetLayout, RedisClient } from '@consult/redis';

/**
 * How the read models are laid out over hash slots, the same on a single Redis and on a Redis Cluster: every
 * key one projector batch (one Kafka topic partition) writes, and that batch's offset, carries the hash tag of
 * the partition, so each atomic step touches one slot. Streams of consultations and their outcomes share key
 * and partition count (`STREAM_PARTITIONS`), so partition n of both is tag `c<n>`; CSO streams and their
 * outcomes are `s<n>`; the one partition of `identity.events` is `i0`. Indexes that used to be global are kept
 * per tag and merged on read (`mergeRanges`). A reader finds a stream's tag from its key with the producers'
 * partitioner (`partitionOfKey`); what it cannot (an outcome by command id, a statement by id) it looks up in
 * every tag of the kind.
 */
export const consultationTag = (partition: number): string => `c${partition}`;
export const csoTag = (partition: number): string => `s${partition}`;
export const IDENTITY_TAG = 'i0';

export const consultationTagOf = (consultationId: string): string => consultationTag(partitionOfKey(consultationId, STREAM_PARTITIONS));
export const csoTagOf = (csoId: string): string => csoTag(partitionOfKey(csoId, STREAM_PARTITIONS));

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
export const CONSULTATION_TAGS: readonly string[] = range(STREAM_PARTITIONS).map(consultationTag);
export const CSO_TAGS: readonly string[] = range(STREAM_PARTITIONS).map(csoTag);

/** The projector's batches: the tag of each topic partition it reads (see above), for its offsets. */
export function projectorOffsetLayout(topics: TopicNames): OffsetLayout {
  return {
    tagOf(topic, partition) {
      if (topic === topics.consultationEvents || topic === topics.consultationOutcomes) return consultationTag(partition);
      if (topic === topics.csoEvents || topic === topics.csoOutcomes) return csoTag(partition);
      if (topic === topics.identityEvents) return IDENTITY_TAG;
      throw new Error(`not a read-model topic: ${topic}`);
    },
    tags: [...CONSULTATION_TAGS, ...CSO_TAGS, IDENTITY_TAG],
  };
}

/**
 * The notifier's read models. The live stream (one Redis stream per events partition, read together with one
 * XREAD) and what its batches remember (addressees, co-signers) share the tag `live`; subscriptions (one
 * partition) are `sub`; deliveries, keyed by subscription, `d<n>` by their partition of `notification.deliveries`.
 */
export const LIVE_TAG = 'live';
export const SUBSCRIPTION_TAG = 'sub';
export const deliveryTag = (partition: number): string => `d${partition}`;
export const deliveryTagOf = (subscriptionId: string): string => deliveryTag(partitionOfKey(subscriptionId, DELIVERY_PARTITIONS));
export const DELIVERY_TAGS: readonly string[] = range(DELIVERY_PARTITIONS).map(deliveryTag);

export function notifierOffsetLayout(topics: TopicNames, notificationTopics: { subscriptionEvents: string; deliveries: string }): OffsetLayout {
  return {
    tagOf(topic, partition) {
      if (topic === topics.consultationEvents || topic === topics.csoEvents) return LIVE_TAG;
      if (topic === notificationTopics.subscriptionEvents) return SUBSCRIPTION_TAG;
      if (topic === notificationTopics.deliveries) return deliveryTag(partition);
      throw new Error(`not a notifier topic: ${topic}`);
    },
    tags: [LIVE_TAG, SUBSCRIPTION_TAG, ...DELIVERY_TAGS],
  };
}

/** The deadline service's schedule: kept per consultation partition, like the projector's read models. */
export function deadlinesOffsetLayout(topics: TopicNames): OffsetLayout {
  return {
    tagOf(topic, partition) {
      if (topic === topics.consultationEvents) return consultationTag(partition);
      throw new Error(`not a deadlines topic: ${topic}`);
    },
    tags: CONSULTATION_TAGS,
  };
}

// ---- merging per-tag sorted sets ----

/** A member of a sorted set, the tag of the set it came from, and its score. */
export interface Ranked {
  member: string;
  score: number;
  tag: string;
}

/** Redis's order of a sorted set: by score, then by member as bytes. */
export function compareRanked(a: Ranked, b: Ranked): number {
  if (a.score !== b.score) return a.score < b.score ? -1 : 1;
  return Buffer.compare(Buffer.from(a.member, 'utf8'), Buffer.from(b.member, 'utf8'));
}

/**
 * One page of the union of sorted sets kept per tag, in the order one set holding them all would give:
 * `asc` as ZRANGE (score, then member), `desc` as ZREVRANGE (the exact reverse). Each part must hold at least
 * its first `offset + limit` entries in that order (what `rangeWithScores` reads).
 */
export function mergeRanges(parts: readonly (readonly Ranked[])[], order: 'asc' | 'desc', offset: number, limit: number): Ranked[] {
  const all = parts.flat();
  all.sort(order === 'asc' ? compareRanked : (a, b) => compareRanked(b, a));
  return all.slice(offset, offset + limit);
}

/** Parses a WITHSCORES reply. */
export function withScores(reply: readonly string[], tag: string): Ranked[] {
  const result: Ranked[] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) result.push({ member: reply[i]!, score: Number(reply[i + 1]), tag });
  return result;
}

/**
 * A page of the union of the sorted sets `keyOf(tag)` over `tags`, and their total (the sum of ZCARDs): the
 * first `offset + limit` of each set, merged.
 */
export async function pageOfTags(
  redis: RedisClient,
  tags: readonly string[],
  keyOf: (tag: string) => string,
  order: 'asc' | 'desc',
  page: { offset: number; limit: number },
): Promise<{ entries: Ranked[]; total: number }> {
  if (page.limit <= 0) {
    const cards = await Promise.all(tags.map((tag) => redis.zcard(keyOf(tag))));
    return { entries: [], total: cards.reduce((a, b) => a + b, 0) };
  }
  const end = page.offset + page.limit - 1;
  const parts = await Promise.all(
    tags.map(async (tag) => {
      const key = keyOf(tag);
      const [reply, card] = await Promise.all([
        order === 'asc' ? redis.zrange(key, 0, end, 'WITHSCORES') : redis.zrevrange(key, 0, end, 'WITHSCORES'),
        redis.zcard(key),
      ]);
      return { entries: withScores(reply, tag), card };
    }),
  );
  return {
    entries: mergeRanges(
      parts.map((p) => p.entries),
      order,
      page.offset,
      page.limit,
    ),
    total: parts.reduce((sum, p) => sum + p.card, 0),
  };
}

/** Every member with a score in [min, max) over the sets `keyOf(tag)`, in ZRANGEBYSCORE order. */
export async function byScoreOfTags(
  redis: RedisClient,
  tags: readonly string[],
  keyOf: (tag: string) => string,
  min: number | string,
  maxExclusive: number,
): Promise<Ranked[]> {
  const parts = await Promise.all(
    tags.map(async (tag) => withScores(await redis.zrangebyscore(keyOf(tag), min, `(${maxExclusive}`, 'WITHSCORES'), tag)),
  );
  return parts.flat().sort(compareRanked);
}
