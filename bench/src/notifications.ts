import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import {
  consultationEventCodec,
  notificationTopicNames,
  notificationTopicSpecs,
  sha256Hex,
  subscriptionEventCodec,
  topicNames,
  topicSpecs,
  type ConsultationEventOf,
  type SubscriptionEvent,
} from '@consult/contracts';
import { BatchingProducer, createKafka, deleteGroups, deleteTopics, ensureTopics, listGroups } from '@consult/kafka';
import { Notifier } from '@consult/notifier';
import { createRedis, KeySpace } from '@consult/redis';
import type { BenchRow } from './types.js';

export interface NotificationBenchContext {
  kafkaBrokers: string;
  redisUrl: string;
  notifications: number;
  logger: Logger;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Delivers N reminders to one local receiver through the whole notifier path: `consultation.events` →
 * router (transactional) → `notification.deliveries` → worker (signed POST) → receiver. The reminder events
 * are produced straight to the events topic (the writer is not what is measured), each on its own
 * consultation, all due "now". Reports the delay from an event's `dueAt` to its arrival, and throughput.
 * Runs on fresh topics and a fresh key space, and removes them afterwards.
 */
export async function notificationBenchmark(ctx: NotificationBenchContext): Promise<BenchRow[]> {
  const { logger } = ctx;
  const n = ctx.notifications;
  const id = `bn${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const topics = topicNames(id);
  const notificationTopics = notificationTopicNames(topics);
  const keyPrefix = `bench:${id}`;
  const kafka = createKafka({ brokers: ctx.kafkaBrokers.split(','), clientId: 'bench-notifications', logger });
  const redis = createRedis(ctx.redisUrl, logger);
  const allSpecs = [...topicSpecs(topics), ...notificationTopicSpecs(notificationTopics)];

  const delays: number[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  let allArrived!: () => void;
  const arrived = new Promise<void>((resolve) => (allArrived = resolve));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = Date.now();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { deliveryId: string; event: { data: { dueAt: string } } };
      res.writeHead(204).end();
      if (seen.has(body.deliveryId)) {
        duplicates++;
        return;
      }
      seen.add(body.deliveryId);
      delays.push(now - Date.parse(body.event.data.dueAt));
      if (seen.size === n) allArrived();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

  const producer = new BatchingProducer(kafka, logger, { maxBatchMessages: 1_000 });
  let notifier: Notifier | undefined;
  try {
    await ensureTopics(kafka, allSpecs, logger);
    await producer.connect();
    notifier = new Notifier({
      kafka,
      redis,
      logger,
      topics,
      keyPrefix,
      // The benchmark's receiver listens on 127.0.0.1.
      allowPrivateTargets: true,
      policy: { baseDelayMs: 200, maxDelayMs: 5_000, maxAttempts: 6, timeoutMs: 5_000, concurrency: 64, perSubscriptionConcurrency: 32 },
    });
    await notifier.start();

    const subscriptionId = randomUUID();
    const now = new Date().toISOString();
    const subscription: SubscriptionEvent = {
      id: randomUUID(),
      source: 'bench',
      type: 'subscription.created',
      version: 1,
      occurredAt: now,
      key: subscriptionId,
      correlationId: randomUUID(),
      causationId: null,
      actor: { kind: 'member-state', id: 'KHM' },
      data: { subscriptionId, owner: { kind: 'member-state', id: 'KHM' }, url, events: ['consultation.reminder-issued'], secret: 'bench-secret-0123456789', createdAt: now },
    };
    await producer.send(notificationTopics.subscriptionEvents, [{ key: subscriptionId, value: subscriptionEventCodec.encode(subscription) }]);
    const directory = notifier.directory;
    for (let i = 0; !directory.get(subscriptionId); i++) {
      if (i > 600) throw new Error('the subscription did not reach the notifier');
      await new Promise((r) => setTimeout(r, 50));
    }

    const started = Date.now();
    const batch = 500;
    const sends: Promise<void>[] = [];
    for (let offset = 0; offset < n; offset += batch) {
      const messages = [];
      for (let i = offset; i < Math.min(n, offset + batch); i++) {
        const at = new Date().toISOString();
        const key = randomUUID();
        const event: ConsultationEventOf<'consultation.reminder-issued'> = {
          id: randomUUID(),
          source: 'bench',
          type: 'consultation.reminder-issued',
          version: 1,
          occurredAt: at,
          key,
          correlationId: key,
          causationId: null,
          actor: { kind: 'system', id: 'deadline-service' },
          sequence: 2,
          previousHash: sha256Hex(key),
          hash: sha256Hex(`${key}:2`),
          data: { offsetSeconds: 3600, deadline: new Date(Date.now() + 3_600_000).toISOString(), dueAt: at, pending: ['KHM', 'THA'] },
        };
        messages.push({ key, value: consultationEventCodec.encode(event) });
      }
      sends.push(producer.send(topics.consultationEvents, messages));
    }
    await Promise.all(sends);
    const produced = Date.now();
    const progress = setInterval(() => logger.debug({ t: Date.now() - started, received: seen.size, worker: notifier?.worker.counts() }, 'progress'), 1000);
    const timeoutMs = Math.max(60_000, n * 10);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      arrived,
      new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`only ${seen.size} of ${n} notifications arrived in ${timeoutMs} ms`)), timeoutMs);
      }),
    ]).finally(() => {
      clearTimeout(timer);
      clearInterval(progress);
    });
    const finished = Date.now();
    // Give late duplicates (there should be none) a moment to show up.
    await new Promise((r) => setTimeout(r, 500));
    delays.sort((a, b) => a - b);
    const rows: BenchRow[] = [
      { benchmark: 'notifications', metric: 'delivery delay median (dueAt → received)', value: percentile(delays, 50), unit: 'ms' },
      { benchmark: 'notifications', metric: 'delivery delay p99 (dueAt → received)', value: percentile(delays, 99), unit: 'ms' },
      { benchmark: 'notifications', metric: 'deliveries per second (first produce → last received)', value: Math.round((n / Math.max(1, finished - started)) * 1000), unit: '1/s' },
      { benchmark: 'notifications', metric: 'events produced per second (input rate)', value: Math.round((n / Math.max(1, produced - started)) * 1000), unit: '1/s' },
      { benchmark: 'notifications', metric: 'duplicate deliveries', value: duplicates, unit: 'count' },
    ];
    logger.info({ rows }, 'notification benchmark done');
    return rows;
  } finally {
    await notifier?.stop().catch((error: unknown) => logger.warn({ err: error }, 'stopping the notifier failed'));
    await producer.close().catch(() => undefined);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new KeySpace(keyPrefix).clear(redis).catch(() => 0);
    redis.disconnect();
    const groups = (await listGroups(kafka).catch(() => [] as string[])).filter((g) => g.startsWith(`${id}.`));
    await deleteGroups(kafka, groups, logger);
    await deleteTopics(kafka, allSpecs.map((s) => s.name), logger);
  }
}
