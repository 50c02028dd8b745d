import type { Logger } from '@consult/config';
import type { TopicNames } from '@consult/contracts';
import { readToEnd, withClusterView, type KafkaClient, type ConsumedRecord } from '@consult/kafka';
import { ReadModelProjection } from '@consult/read-models';
import { isPoison } from '@consult/streams';
import { applyCommands, CoalescingMulti, globEscape, hashTagOf, KeySpace, RedisOffsetStore, scanKeys, type ChainableCommander, type RedisClient as Redis } from '@consult/redis';

import { silentProgress, type ProgressSink } from './progress.js';

export interface RebuildOptions {
  kafka: KafkaClient;
  redis: Redis;
  logger: Logger;
  topics: TopicNames;
  /** A fresh key space: the rebuild refuses to write into one that holds keys. */
  keyPrefix: string;
  progress?: ProgressSink;
  /** Events per chunk (one MULTI or script per hash tag). */
  chunk?: number;
  /** MULTIs sent and not yet answered; Redis answers them in order on one connection. */
  maxInFlight?: number;
  /**
   * How a chunk is written: `script` (default) sends its merged commands as one atomic EVAL per hash tag,
   * `multi` as a MULTI/EXEC of commands per tag. Same effects; the script saves the client most of its
   * per-command work. Per tag, because a Redis Cluster runs a script or transaction in one slot.
   */
  writer?: 'script' | 'multi';
  /** Consumers per topic, each reading some of its partitions (default 2). */
  readers?: number;
}

export interface RebuildResult {
  keyPrefix: string;
  events: number;
  byTopic: Record<string, number>;
  ms: number;
  eventsPerSecond: number;
}

/** `<prefix>-rebuild-<timestamp>`: a key space beside the live one, never overlapping it. */
export function rebuildPrefix(livePrefix: string, now = new Date()): string {
  return `${livePrefix}-rebuild-${now.toISOString().replace(/[-:.]/g, '').toLowerCase()}`;
}

type Applier = (multi: ChainableCommander, partition: number, message: ConsumedRecord) => void;

/**
 * Replays every topic the projector reads from its beginning into a fresh key space with the projector's own
 * read-model functions: read in fetched batches (readToEnd), decode and validate each message, record its
 * effects, merge commands on one key (CoalescingMulti) and send each chunk atomically (one EVAL, or a MULTI),
 * keeping a few chunks in flight so Kafka fetches and Redis writes overlap.
 * The projector's offsets are stored too, so a projector could take over the rebuilt key space.
 */
export async function rebuildReadModels(options: RebuildOptions): Promise<RebuildResult> {
  const { kafka, redis, logger, topics } = options;
  const progress = options.progress ?? silentProgress;
  const keys = new KeySpace(options.keyPrefix);
  if (await hasKeys(redis, options.keyPrefix))
    throw new Error(`key space ${options.keyPrefix} is not empty: a rebuild needs a fresh one`);
  const projection = new ReadModelProjection(topics, keys);
  const offsets = new RedisOffsetStore(keys, 'projector', projection.offsetLayout);
  const chunk = options.chunk ?? 1_000;
  const maxInFlight = options.maxInFlight ?? 4;
  // Records that do not decode are skipped, as the projector skips them (into quarantine).
  let skipped = 0;
  const appliers: [string, Applier][] = projection.topics.map((topic) => [
    topic,
    (multi, partition, m) => {
      let record;
      try {
        record = projection.decode(topic, m.value);
      } catch (error) {
        if (!isPoison(error)) throw error;
        skipped++;
        return;
      }
      projection.project(multi, [record], projection.tagOf(topic, partition));
    },
  ]);

  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  let failure: Error | undefined;
  const writer = options.writer ?? 'script';
  const send = async (sent: Promise<void>): Promise<void> => {
    const tracked = sent.catch((error: unknown) => {
      failure ??= error instanceof Error ? error : new Error(String(error));
    });
    inFlight.add(tracked);
    void tracked.finally(() => inFlight.delete(tracked));
    if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
  };

  const byTopic: Record<string, number> = {};
  // Each topic's partitions are split among a few readers (consumers): kafkajs fetches again only once a
  // fetch is processed, so while one reader waits for the broker another applies. Order per partition holds.
  const readers = options.readers ?? 2;
  const jobs: { topic: string; apply: Applier; partitions: number[] }[] = [];
  await withClusterView(kafka, async (view) => {
    for (const [topic, apply] of appliers) {
      const partitions = (await view.ends(topic)).filter((o) => Number(o.high) > Number(o.low)).map((o) => o.partition);
      for (let r = 0; r < Math.min(readers, partitions.length); r++)
        jobs.push({ topic, apply, partitions: partitions.filter((_, i) => i % readers === r) });
    }
  });
  await Promise.all(
    jobs.map(async ({ topic, apply, partitions }) => {
      const { messages } = await readToEnd(kafka, {
        topic,
        partitions,
        logger,
        groupIdPrefix: `${topic}.rebuild`,
        timeoutMs: 30 * 60_000,
        onBatch: async (partition, batch) => {
          if (failure) throw failure;
          for (let start = 0; start < batch.length; start += chunk) {
            const part = batch.slice(start, start + chunk);
            const merged = new CoalescingMulti();
            for (const message of part) apply(merged.commander, partition, message);
            offsets.record(merged.commander, topic, partition, part[part.length - 1]!.offset);
            const commands = merged.commands();
            await send(writer === 'multi' ? execMultiPerTag(redis, commands) : applyCommands(redis, commands));
          }
          progress.add(batch.length);
        },
      });
      byTopic[topic] = (byTopic[topic] ?? 0) + messages;
    }),
  );
  for (const [topic] of appliers) byTopic[topic] ??= 0;
  await Promise.all(inFlight);
  if (failure) throw failure;
  progress.done();
  const ms = Date.now() - started;
  const events = Object.values(byTopic).reduce((a, b) => a + b, 0);
  logger.info({ keyPrefix: options.keyPrefix, events, skipped, ms }, 'read models rebuilt');
  return { keyPrefix: options.keyPrefix, events, byTopic, ms, eventsPerSecond: Math.round((events * 1000) / Math.max(ms, 1)) };
}

async function execMultiPerTag(redis: Redis, commands: string[][]): Promise<void> {
  const byTag = new Map<string, string[][]>();
  for (const command of commands) {
    const tag = hashTagOf(command[1] ?? '');
    const group = byTag.get(tag);
    if (group) group.push(command);
    else byTag.set(tag, [command]);
  }
  await Promise.all(
    [...byTag.values()].map(async (group) => {
      const multi = redis.multi();
      for (const [name, ...args] of group) void multi.call(name!, ...args);
      const results = await multi.exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error('redis transaction discarded');
    }),
  );
}

async function hasKeys(redis: Redis, prefix: string): Promise<boolean> {
  let found = false;
  await scanKeys(redis, `${globEscape(prefix)}:*`, () => {
    found = true;
    return 'stop';
  });
  return found;
}

export { globEscape };
