import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { kafkaBrokerList } from '@consult/config';
import {
  consultationCommandCodec,
  consultationEventCodec,
  topicNames,
  topicSpecs,
  writerGroupId,
  type ConsultationCommandOf,
} from '@consult/contracts';
import { ConsultationWriter } from '@consult/consultation';
import { DeadlineService, deadlinesGroupId } from '@consult/deadlines';
import { BatchingProducer, createKafka, deleteGroups, deleteTopics, ensureTopics, listGroups, WatchedConsumer, type ProducedRecord } from '@consult/kafka';
import { createRedis, KeySpace } from '@consult/redis';
import type { BenchRow } from './types.js';

export interface DeadlineBenchmarkContext {
  kafkaBrokers: string;
  redisUrl: string;
  /** Reminders to issue; a quarter as many consultations with four reminder offsets each. */
  reminders: number;
  logger: Logger;
}

const OFFSETS_SECONDS = [4, 3, 2, 1];
/** Every reminder point falls due within this window. */
const WINDOW_MS = 10_000;
/** Time to open the consultations and let the schedule catch up before the first reminder is due. */
const LEAD_MS = 20_000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * How late are reminders? Runs the single writer and the deadline service in this process on fresh topics and
 * a fresh key space, opens consultations whose reminder points all fall due within ~10 s, and measures for
 * each reminder the delay from its due time (`dueAt`) to the moment its `consultation.reminder-issued` event
 * is readable (read_committed) in Kafka: ticker precision + command produce + the writer's transaction.
 */
export async function deadlineBenchmark(ctx: DeadlineBenchmarkContext): Promise<BenchRow[]> {
  const { logger } = ctx;
  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const topics = topicNames(`bench-dl-${id}`);
  const keyPrefix = `bench:dl:${id}`;
  const kafka = createKafka({ brokers: kafkaBrokerList(ctx.kafkaBrokers), clientId: 'bench-deadlines', logger });
  const redis = createRedis(ctx.redisUrl, logger);
  const consultations = Math.max(1, Math.ceil(ctx.reminders / OFFSETS_SECONDS.length));
  const expected = consultations * OFFSETS_SECONDS.length;
  const readerGroup = `${topics.consultationEvents}.bench-reader`;

  await ensureTopics(kafka, topicSpecs(topics), logger);
  const writer = new ConsultationWriter({ kafka, logger, topics });
  /** dueAt → the broker acknowledged the command: the deadline service's own share of the delay. */
  const acked: number[] = [];
  const deadlines = new DeadlineService({
    kafka,
    redis,
    logger,
    topics,
    keyPrefix,
    onSent: (sent) => {
      for (const s of sent) if (s.job.kind === 'reminder') acked.push(s.ackedAt - s.dueAt);
    },
  });
  const producer = new BatchingProducer(kafka, logger);
  const delays: number[] = [];
  /** dueAt → the writer's decision (event `occurredAt`): the ticker's and the command's share of the delay. */
  const decided: number[] = [];
  let closings = 0;
  let allIssued!: () => void;
  const issued = new Promise<void>((resolve) => (allIssued = resolve));
  const reader = new WatchedConsumer({
    kafka,
    logger,
    topic: topics.consultationEvents,
    groupId: readerGroup,
    autoCommit: false,
    maxWaitTimeInMs: 20,
    onBatch: ({ messages }) => {
      const readAt = Date.now();
      for (const m of messages) {
        const event = consultationEventCodec.decode(m.value);
        if (event.type === 'consultation.reminder-issued') {
          delays.push(readAt - Date.parse(event.data.dueAt));
          decided.push(Date.parse(event.occurredAt) - Date.parse(event.data.dueAt));
          if (delays.length === expected) allIssued();
        } else if (event.type === 'consultation.closed') closings++;
      }
    },
  });
  try {
    await Promise.all([writer.start(), deadlines.start(), producer.connect()]);
    await Promise.all([writer.assigned, deadlines.assigned]);
    await reader.start();
    await reader.assigned;

    // Open the consultations: deadlines spread so that reminder points (deadline − 4..1 s) cover the window.
    const windowStart = Date.now() + LEAD_MS;
    const spread = WINDOW_MS - (OFFSETS_SECONDS[0]! - OFFSETS_SECONDS.at(-1)!) * 1000;
    const messages: ProducedRecord[] = [];
    for (let i = 0; i < consultations; i++) {
      const deadline = new Date(windowStart + OFFSETS_SECONDS[0]! * 1000 + Math.floor((spread * i) / consultations));
      const command: ConsultationCommandOf<'consultation.open'> = {
        id: randomUUID(),
        key: randomUUID(),
        type: 'consultation.open',
        version: 1,
        receivedAt: new Date().toISOString(),
        correlationId: `bench-${id}`,
        actor: { kind: 'secretariat', id: 'bench' },
        data: {
          reference: `BENCH/${i}`,
          title: 'Benchmark consultation',
          documents: [{ language: 'en', title: 'Draft' }],
          addressees: ['KHM', 'THA', 'KAZ'],
          deadline: deadline.toISOString(),
          reminderOffsetsSeconds: OFFSETS_SECONDS,
          commentVisibility: 'own',
        },
      };
      messages.push({ key: command.key, value: consultationCommandCodec.encode(command), headers: { 'command-type': command.type } });
    }
    for (let i = 0; i < messages.length; i += 1_000) await producer.send(topics.consultationCommands, messages.slice(i, i + 1_000));
    const scheduled = consultations * (OFFSETS_SECONDS.length + 1);
    while ((await deadlines.scheduledCount()) < scheduled && Date.now() < windowStart) await new Promise((r) => setTimeout(r, 100));
    const scheduledBeforeWindow = await deadlines.scheduledCount();
    logger.info({ consultations, scheduled: scheduledBeforeWindow, leadMs: windowStart - Date.now() }, 'schedule ready; waiting for the window');

    const timeoutMs = windowStart + WINDOW_MS + 60_000 - Date.now();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([issued, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);

    const sorted = [...delays].sort((a, b) => a - b);
    const sortedDecided = [...decided].sort((a, b) => a - b);
    const sortedAcked = [...acked].sort((a, b) => a - b);
    const row = (metric: string, value: number, unit: string): BenchRow => ({ benchmark: 'deadlines', metric, value, unit });
    return [
      row('reminders issued', delays.length, 'count'),
      row('reminders expected', expected, 'count'),
      row('jobs scheduled before the window', scheduledBeforeWindow, 'count'),
      row('reminder delay (dueAt → readable) median', percentile(sorted, 50), 'ms'),
      row('reminder delay (dueAt → readable) p99', percentile(sorted, 99), 'ms'),
      row('reminder delay (dueAt → readable) max', sorted.at(-1) ?? Number.NaN, 'ms'),
      row('reminder delay (dueAt → readable) min', sorted[0] ?? Number.NaN, 'ms'),
      row('dueAt → command acknowledged, median', percentile(sortedAcked, 50), 'ms'),
      row('dueAt → command acknowledged, p99', percentile(sortedAcked, 99), 'ms'),
      row('dueAt → decided by the writer, median', percentile(sortedDecided, 50), 'ms'),
      row('dueAt → decided by the writer, p99', percentile(sortedDecided, 99), 'ms'),
      row('closings seen', closings, 'count'),
    ];
  } finally {
    await reader.stop().catch(() => undefined);
    await Promise.allSettled([deadlines.stop(), writer.stop(), producer.close()]);
    await new KeySpace(keyPrefix).clear(redis).catch(() => undefined);
    redis.disconnect();
    try {
      const groups = (await listGroups(kafka)).filter((g) => g.startsWith(`bench-dl-${id}`));
      await deleteGroups(kafka, [...new Set([...groups, readerGroup, writerGroupId(topics), deadlinesGroupId(topics, keyPrefix)])], logger);
      await deleteTopics(kafka, topicSpecs(topics).map((s) => s.name), logger);
    } catch (error) {
      logger.warn({ err: error }, 'benchmark cleanup failed');
    }
  }
}
