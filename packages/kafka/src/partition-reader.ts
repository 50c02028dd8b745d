import { kafkajsOf } from './kafkajs-client.js';
import { randomUUID } from 'node:crypto';
import type { ConsumedRecord } from './records.js';
import type { KafkaClient } from './client.js';
import type { Logger } from 'pino';

export interface ReadToEndOptions {
  topic: string;
  /** Partitions to read; all when omitted. */
  partitions?: readonly number[];
  /** Where to start per partition (the next offset to read); the beginning for partitions not given. */
  from?: ReadonlyMap<number, number>;
  logger: Logger;
  /** Called in partition order for each fetched batch of the wanted partitions. */
  onBatch: (partition: number, messages: ConsumedRecord[]) => void | Promise<void>;
  /** How long to wait for the end before failing (an open transaction holds read_committed readers back). */
  timeoutMs?: number;
  groupIdPrefix?: string;
}

export interface ReadToEndResult {
  messages: number;
  /** The end offset reached per partition (exclusive). */
  ends: Map<number, number>;
}

/**
 * Reads partitions of a topic from the beginning (or given offsets) to the end they had when called, with read_committed
 * semantics, through a throw-away consumer group. The end is found by offsets, not by silence: a partition is
 * done when the consumer has passed its high watermark, counting transaction markers, which kafkajs reports
 * in END_BATCH_PROCESS even when a fetch holds nothing but control records.
 */
export async function readToEnd(kafka: KafkaClient, options: ReadToEndOptions): Promise<ReadToEndResult> {
  const { topic, logger } = options;
  const groupId = `${options.groupIdPrefix ?? 'reader'}-${randomUUID()}`;
  const ends = new Map<number, number>();
  const remaining = new Set<number>();
  /** Per partition, the next offset to hand over: anything below it was handed over already, or is not wanted. */
  const next = new Map<number, number>();
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const wanted = new Set(options.partitions ?? offsets.map((o) => o.partition));
    for (const o of offsets) {
      if (!wanted.has(o.partition)) continue;
      ends.set(o.partition, Number(o.high));
      const start = Math.max(Number(o.low), options.from?.get(o.partition) ?? 0);
      next.set(o.partition, start);
      if (Number(o.high) > start) remaining.add(o.partition);
    }
  } finally {
    await admin.disconnect();
  }
  if (remaining.size === 0) return { messages: 0, ends };

  const consumer = kafkajsOf(kafka).consumer({
    groupId,
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
    readUncommitted: false,
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
    // On a brand-new broker the first join can meet a group coordinator still loading its offsets
    // (COORDINATOR_LOAD_IN_PROGRESS): kafkajs restarts the consumer, which is harmless while nothing has been
    // handed over yet. After that a restart would read from the beginning again (no offsets are committed),
    // handing messages over twice, so it ends the read instead.
    if (payload.restart && count === 0) return logger.info({ err: payload.error, topic }, 'reader restarting before its first batch');
    failure = payload.error;
    finish();
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        if (!remaining.has(batch.partition)) return;
        const end = ends.get(batch.partition) ?? 0;
        // Only what existed when we started (later messages belong to whoever reads on), and each record once: a
        // seek races the first fetch, whose batch (from the beginning) kafkajs may still hand over before the
        // seek's own fetch hands the same records over again, and a writer's state would apply them twice.
        const from = next.get(batch.partition) ?? 0;
        const messages = batch.messages.filter((m) => Number(m.offset) < end && Number(m.offset) >= from);
        if (messages.length > 0) {
          next.set(batch.partition, Number(messages[messages.length - 1]!.offset) + 1);
          count += messages.length;
          await options.onBatch(batch.partition, messages);
        }
        await heartbeat();
      },
    });
    // kafkajs takes seeks only once the consumer runs; they apply when each partition's fetching starts.
    for (const [partition, offset] of next) if (remaining.has(partition) && offset > 0) consumer.seek({ topic, partition, offset: String(offset) });
    const timeoutMs = options.timeoutMs ?? 120_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`reading ${topic} to its end took over ${timeoutMs} ms (partitions ${[...remaining].join(',')})`)),
        timeoutMs,
      );
    });
    await Promise.race([finished, timedOut]).finally(() => clearTimeout(timer));
    if (failure) throw failure instanceof Error ? failure : new Error('the reader crashed');
  } finally {
    await consumer.disconnect().catch((error: unknown) => logger.warn({ err: error }, 'reader disconnect failed'));
    const cleanup = kafkajsOf(kafka).admin();
    await cleanup
      .connect()
      .then(() => cleanup.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => void cleanup.disconnect());
  }
  return { messages: count, ends };
}
