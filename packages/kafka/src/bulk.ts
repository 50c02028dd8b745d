import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage, Message } from 'kafkajs';
import type { Logger } from 'pino';

/**
 * Plain tools for benchmarks and maintenance, so that nothing outside this package calls kafkajs: a bulk
 * loader, a bare consumer that reads a topic to its end, topic readiness on a brand-new broker, and clean-up.
 */

/**
 * Errors of a topic that was just created: the controller has a leader for each partition but the broker
 * has not started hosting it yet ("This server does not host this topic-partition"), or the leader is still
 * being elected. They pass within seconds; kafkajs' own retries do not always outlast them on a new broker.
 */
const FRESH_TOPIC_ERRORS = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER']);

export function isFreshTopicError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const { type, message } = e as { type?: unknown; message?: unknown };
    if (typeof type === 'string' && FRESH_TOPIC_ERRORS.has(type)) return true;
    if (typeof message === 'string' && /does not host this topic-partition|leader not available|not the leader/i.test(message)) return true;
    e = (e as { originalError?: unknown; cause?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Runs `operation` again (with backoff, up to `timeoutMs`) while it fails with a fresh-topic error. */
export async function retryWhileFresh<T>(operation: () => Promise<T>, logger: Logger, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isFreshTopicError(error) || Date.now() > deadline) throw error;
      const delay = Math.min(2_000, 100 * 2 ** attempt);
      logger.info({ err: error, attempt, delay }, 'topic not ready yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Per partition: [low, high) offsets. */
export async function topicOffsets(kafka: Kafka, topic: string, logger: Logger): Promise<Map<number, { low: number; high: number }>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await retryWhileFresh(() => admin.fetchTopicOffsets(topic), logger);
    return new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
  } finally {
    await admin.disconnect();
  }
}

/** Messages (and transaction markers) stored in a topic: the sum of high minus low watermarks. */
export async function countMessages(kafka: Kafka, topic: string, logger: Logger): Promise<number> {
  let total = 0;
  for (const { low, high } of (await topicOffsets(kafka, topic, logger)).values()) total += high - low;
  return total;
}

/**
 * Waits until every partition of these topics answers its leader's ListOffsets, which a broker refuses
 * for a partition it does not host yet: afterwards the first produce and fetch find them.
 */
export async function waitForTopics(kafka: Kafka, topics: readonly string[], logger: Logger, timeoutMs = 60_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const topic of topics) await retryWhileFresh(() => admin.fetchTopicOffsets(topic), logger, timeoutMs);
  } finally {
    await admin.disconnect();
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export interface BulkProduceOptions {
  logger: Logger;
  /** Messages per sendBatch (keep a partition's share under the broker's 1 MB message limit). */
  batchSize?: number;
  /** sendBatch requests in flight. */
  inFlight?: number;
}

/**
 * Bulk loader for history that is not a system of record (benchmarks, fixtures): sendBatch of `batchSize`,
 * several in flight, acks=1, no idempotence (order per connection is kept). The first batch is sent alone
 * and retried while the topic is fresh. Returns the milliseconds taken.
 */
export async function bulkProduce(kafka: Kafka, topic: string, messages: Iterable<Message>, options: BulkProduceOptions): Promise<number> {
  const { logger } = options;
  const batchSize = options.batchSize ?? 2_000;
  const maxInFlight = options.inFlight ?? 8;
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false });
  await producer.connect();
  const started = Date.now();
  const inFlight = new Set<Promise<unknown>>();
  let failure: Error | undefined;
  let first = true;
  let batch: Message[] = [];
  const flush = async (): Promise<void> => {
    const sending = batch;
    batch = [];
    const send = (): Promise<unknown> => producer.sendBatch({ acks: 1, topicMessages: [{ topic, messages: sending }] });
    if (first) {
      first = false;
      await retryWhileFresh(send, logger);
      return;
    }
    const sent = send().catch((error: unknown) => void (failure ??= asError(error)));
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent));
    if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    if (failure) throw failure;
  };
  try {
    for (const message of messages) {
      batch.push(message);
      if (batch.length >= batchSize) await flush();
    }
    if (batch.length > 0) await flush();
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
  onBatch?: (partition: number, messages: KafkaMessage[]) => void | Promise<void>;
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
export async function consumeToEnd(kafka: Kafka, options: ConsumeToEndOptions): Promise<ConsumeToEndResult> {
  const { topic, logger, onBatch } = options;
  const ends = new Map<number, number>();
  const remaining = new Set<number>();
  for (const [partition, { low, high }] of await topicOffsets(kafka, topic, logger)) {
    ends.set(partition, high);
    if (high > low) remaining.add(partition);
  }
  if (remaining.size === 0) return { messages: 0, ms: 0 };
  const groupId = `${options.groupIdPrefix ?? `${topic}.consume`}-${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
  });
  let count = 0;
  let failure: unknown;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const end = ends.get(payload.partition);
    if (payload.topic === topic && end !== undefined && Number(payload.lastOffset) >= end - 1) {
      remaining.delete(payload.partition);
      if (remaining.size === 0) finish();
    }
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    // kafkajs restarts itself after a retriable crash (a coordinator still loading on a new broker), harmless
    // before the first batch; later it would read from the beginning again, so that ends the read instead.
    if (payload.restart && count === 0) return logger.info({ err: payload.error, topic }, 'consumer restarting before its first batch');
    failure = payload.error;
    finish();
  });
  const started = Date.now();
  await consumer.connect();
  let timer: NodeJS.Timeout | undefined;
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
    const timedOut = new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`consuming ${topic} to its end took over ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([finished, timedOut]);
    if (failure) throw failure instanceof Error ? failure : new Error('the consumer crashed');
    return { messages: count, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch((error: unknown) => logger.warn({ err: error }, 'consumer disconnect failed'));
    await deleteGroups(kafka, [groupId], logger);
  }
}

/** Deletes consumer groups, ignoring ones that do not exist; failures are logged, not thrown (clean-up). */
export async function deleteGroups(kafka: Kafka, groupIds: readonly string[], logger: Logger): Promise<void> {
  if (groupIds.length === 0) return;
  const admin = kafka.admin();
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
export async function deleteTopics(kafka: Kafka, topics: readonly string[], logger: Logger): Promise<void> {
  if (topics.length === 0) return;
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics: [...topics] });
  } catch (error) {
    logger.warn({ err: error, topics }, 'deleting topics failed');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
