import { randomUUID } from 'node:crypto';
import type { PartitionMetadata } from 'kafkajs';
import type { ConsumedRecord, ProducedRecord } from './records.js';
import type { KafkaClient } from './client.js';
import { kafkajsOf, PRODUCER_DEFAULTS } from './kafkajs-client.js';
import type { Logger } from 'pino';
import { retryWhileFresh } from './retriable.js';
import { deadlineOf, toEndConsumer, watchToEnd } from './to-end.js';

/**
 * Plain tools for benchmarks and maintenance, so that nothing outside this package calls kafkajs: a bulk
 * loader, a bare consumer that reads a topic to its end, offsets and counts, and clean-up.
 */

/** Per partition: [low, high) offsets. */
export async function topicOffsets(kafka: KafkaClient, topic: string, logger: Logger): Promise<Map<number, { low: number; high: number }>> {
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  try {
    const offsets = await retryWhileFresh(() => admin.fetchTopicOffsets(topic), logger);
    return new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
  } finally {
    await admin.disconnect();
  }
}

/** Messages (and transaction markers) stored in a topic: the sum of high minus low watermarks. */
export async function countMessages(kafka: KafkaClient, topic: string, logger: Logger): Promise<number> {
  let total = 0;
  for (const { low, high } of (await topicOffsets(kafka, topic, logger)).values()) total += high - low;
  return total;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export interface BulkProduceOptions {
  logger: Logger;
  /** Messages per partition and request (keep them under the broker's 1 MB record-batch limit). */
  batchSize?: number;
  /** Requests in flight, at most one per partition. */
  inFlight?: number;
}

/**
 * Bulk loader for history that is not a system of record (benchmarks, fixtures): acks=1, no idempotence.
 * Messages are assigned to partitions by the project's partitioner (so keys land where the writers' producers
 * would put them) and sent per partition, one request in flight per partition and several partitions at
 * once: concurrent sendBatch calls of kafkajs can reach the broker in any order, so order per partition is
 * only kept by never having two of them for one partition. Each request is retried while the topic is fresh
 * (a single-partition request that failed wrote nothing). Returns the milliseconds taken.
 */
export async function bulkProduce(kafka: KafkaClient, topic: string, messages: Iterable<ProducedRecord>, options: BulkProduceOptions): Promise<number> {
  const { logger } = options;
  const batchSize = options.batchSize ?? 500;
  const maxInFlight = options.inFlight ?? 6;
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  let partitionMetadata: PartitionMetadata[];
  try {
    partitionMetadata = (await retryWhileFresh(() => admin.fetchTopicMetadata({ topics: [topic] }), logger)).topics[0]!.partitions;
  } finally {
    await admin.disconnect();
  }
  const partitioner = PRODUCER_DEFAULTS.createPartitioner!();
  const producer = kafkajsOf(kafka).producer({ ...PRODUCER_DEFAULTS, idempotent: false });
  await producer.connect();
  const started = Date.now();
  const buffers = new Map<number, ProducedRecord[]>();
  /** Per partition, the send that must finish before its next one starts. */
  const tails = new Map<number, Promise<void>>();
  const inFlight = new Set<Promise<void>>();
  let failure: Error | undefined;
  const flush = async (partition: number): Promise<void> => {
    const batch = buffers.get(partition);
    if (!batch || batch.length === 0) return;
    buffers.set(partition, []);
    const send = async (): Promise<void> => {
      if (failure) return;
      await retryWhileFresh(() => producer.sendBatch({ acks: 1, topicMessages: [{ topic, messages: batch }] }), logger);
    };
    const sent = (tails.get(partition) ?? Promise.resolve()).then(send).catch((error: unknown) => void (failure ??= asError(error)));
    tails.set(partition, sent);
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent));
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    if (failure) throw failure;
  };
  try {
    for (const message of messages) {
      const partition = partitioner({ topic, partitionMetadata, message });
      let buffer = buffers.get(partition);
      if (!buffer) buffers.set(partition, (buffer = []));
      buffer.push({ ...message, partition });
      if (buffer.length >= batchSize) await flush(partition);
    }
    for (const partition of [...buffers.keys()]) await flush(partition);
    await Promise.all(inFlight);
    if (failure) throw failure;
  } finally {
    await producer.disconnect();
  }
  return Date.now() - started;
}

export interface ConsumeToEndOptions {
  topic: string;
  logger: Logger;
  /** Called for each fetched batch, as kafkajs hands it over (no filtering, no copies). */
  onBatch?: (partition: number, messages: ConsumedRecord[]) => void | Promise<void>;
  groupIdPrefix?: string;
  timeoutMs?: number;
}

export interface ConsumeToEndResult {
  messages: number;
  /** From connecting the consumer until the last partition's end was reached (group join included). */
  ms: number;
}

/**
 * A bare consumer with kafkajs' defaults that reads a topic from the beginning to the end it had when called
 * and does nothing else (a baseline for readers like `readToEnd`, which filter, heartbeat and await). The end
 * is found by offsets; the throw-away group is deleted afterwards.
 */
export async function consumeToEnd(kafka: KafkaClient, options: ConsumeToEndOptions): Promise<ConsumeToEndResult> {
  const { topic, logger, onBatch } = options;
  const ends = new Map<number, number>();
  const remaining = new Set<number>();
  for (const [partition, { low, high }] of await topicOffsets(kafka, topic, logger)) {
    ends.set(partition, high);
    if (high > low) remaining.add(partition);
  }
  if (remaining.size === 0) return { messages: 0, ms: 0 };
  const groupId = `${options.groupIdPrefix ?? `${topic}.consume`}-${randomUUID()}`;
  const consumer = toEndConsumer(kafka, groupId);
  let count = 0;
  const watch = watchToEnd(consumer, topic, ends, remaining, () => count, logger);
  const started = Date.now();
  await consumer.connect();
  let deadline: { clear: () => void } | undefined;
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        count += batch.messages.length;
        if (onBatch) await onBatch(batch.partition, batch.messages);
      },
    });
    const timeoutMs = options.timeoutMs ?? 10 * 60_000;
    const limit = deadlineOf(timeoutMs, () => `consuming ${topic} to its end took over ${timeoutMs} ms`);
    deadline = limit;
    await Promise.race([watch.finished, limit.expired]);
    const failure = watch.failure();
    if (failure) throw failure instanceof Error ? failure : new Error('the consumer crashed');
    return { messages: count, ms: Date.now() - started };
  } finally {
    deadline?.clear();
    await consumer.disconnect().catch((error: unknown) => logger.warn({ err: error }, 'consumer disconnect failed'));
    await deleteGroups(kafka, [groupId], logger);
  }
}

/** The ids of every consumer group the cluster knows (clean-up: to find the groups a run created). */
export async function listGroups(kafka: KafkaClient): Promise<string[]> {
  const admin = kafkajsOf(kafka).admin();
  try {
    await admin.connect();
    return (await admin.listGroups()).groups.map((g) => g.groupId);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Deletes consumer groups, ignoring ones that do not exist; failures are logged, not thrown (clean-up). */
export async function deleteGroups(kafka: KafkaClient, groupIds: readonly string[], logger: Logger): Promise<void> {
  if (groupIds.length === 0) return;
  const admin = kafkajsOf(kafka).admin();
  try {
    await admin.connect();
    await admin.deleteGroups([...groupIds]);
  } catch (error) {
    if ((error as { name?: unknown }).name !== 'KafkaJSDeleteGroupsError') logger.warn({ err: error, groupIds }, 'deleting consumer groups failed');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Deletes topics (clean-up: failures are logged, not thrown). */
export async function deleteTopics(kafka: KafkaClient, topics: readonly string[], logger: Logger): Promise<void> {
  if (topics.length === 0) return;
  const admin = kafkajsOf(kafka).admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics: [...topics] });
  } catch (error) {
    logger.warn({ err: error, topics }, 'deleting topics failed');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Produces each record in a request of its own (idempotent, acks=all) and says where each landed: for tools
 * and tests that write records by hand (a forged event) and then point at them.
 */
export async function produceEach(kafka: KafkaClient, topic: string, messages: readonly ProducedRecord[]): Promise<{ partition: number; offset: string }[]> {
  const producer = kafkajsOf(kafka).producer({ ...PRODUCER_DEFAULTS, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const positions: { partition: number; offset: string }[] = [];
    for (const message of messages) {
      const [meta] = await producer.send({ topic, acks: -1, messages: [message] });
      positions.push({ partition: meta!.partition, offset: meta!.baseOffset! });
    }
    return positions;
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

/**
 * Creates topics exactly as given, replication factor included, without `ensureTopics`' checks: for tests
 * that need a topic weaker than the project's (to see `ensureTopics` refuse it).
 */
export async function createTopicsAsGiven(
  kafka: KafkaClient,
  topics: readonly { name: string; partitions: number; replicationFactor: number; config: Readonly<Record<string, string>> }[],
): Promise<void> {
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: t.replicationFactor,
        configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
      })),
    });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
