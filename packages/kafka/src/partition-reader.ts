import { randomUUID } from 'node:crypto';
import type { ConsumedRecord } from './records.js';
import type { KafkaClient } from './client.js';
import type { Logger } from 'pino';
import { deleteGroups, topicOffsets } from './bulk.js';
import { deadlineOf, toEndConsumer, watchToEnd } from './to-end.js';

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
  const offsets = await topicOffsets(kafka, topic, logger);
  const wanted = new Set(options.partitions ?? offsets.keys());
  for (const [partition, { low, high }] of offsets) {
    if (!wanted.has(partition)) continue;
    ends.set(partition, high);
    const start = Math.max(low, options.from?.get(partition) ?? 0);
    next.set(partition, start);
    if (high > start) remaining.add(partition);
  }
  if (remaining.size === 0) return { messages: 0, ends };

  const consumer = toEndConsumer(kafka, groupId);
  let count = 0;
  const watch = watchToEnd(consumer, topic, ends, remaining, () => count, logger);
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
    const deadline = deadlineOf(timeoutMs, () => `reading ${topic} to its end took over ${timeoutMs} ms (partitions ${[...remaining].join(',')})`);
    await Promise.race([watch.finished, deadline.expired]).finally(deadline.clear);
    const failure = watch.failure();
    if (failure) throw failure instanceof Error ? failure : new Error('the reader crashed');
  } finally {
    await consumer.disconnect().catch((error: unknown) => logger.warn({ err: error }, 'reader disconnect failed'));
    await deleteGroups(kafka, [groupId], logger);
  }
  return { messages: count, ends };
}
