import { randomBytes } from 'node:crypto';
import {
  chainHash,
  deterministicUuid,
  sha256Hex,
  topicNames,
  topicSpecs,
  type ConsultationEvent,
  type TopicNames,
} from '@consult/contracts';
import { createKafka, ensureTopics, type Kafka, type Message } from '@consult/kafka';
import { createRedis, KeySpace } from '@consult/redis';
import { rebuildReadModels } from '@consult/replay';
import type { Logger } from 'pino';
import type { BenchRow } from './types.js';

export interface ReplayBenchContext {
  kafkaBrokers: string;
  redisUrl: string;
  /** Events to produce and replay (1,000,000 in the real run). */
  events: number;
  logger: Logger;
}

const CONSULTATIONS = 100;
const ADDRESSEES = ['KHM', 'THA', 'KAZ', 'MNG', 'LAO', 'VNM', 'IDN', 'MYS', 'PHL', 'SGP'];
const BODIES = Array.from(
  { length: 16 },
  (_, i) => `Comment ${i}: the delegation supports draft rule ${i + 1} with the amendment circulated on the list, and asks that paragraph ${i + 2} refer to the agreed text.`,
);
const BODY_HASHES = BODIES.map((body) => sha256Hex(body));

/**
 * Realistic chained consultation events, generated lazily: ~100 consultations, each opened and then commented
 * on (bodies of ~150 characters, ten addressees), interleaved as they would arrive, with valid hash chains.
 */
function* consultationEvents(total: number, runId: string): Generator<ConsultationEvent> {
  const heads = new Map<string, { sequence: number; hash: string }>();
  const ids = Array.from({ length: Math.min(CONSULTATIONS, Math.max(1, total)) }, (_, i) => deterministicUuid(`${runId}:c:${i}`));
  const start = Date.parse('2026-01-05T08:00:00Z');
  for (let n = 0; n < total; n++) {
    const id = ids[n % ids.length]!;
    const head = heads.get(id);
    const sequence = (head?.sequence ?? 0) + 1;
    const at = new Date(start + n * 10).toISOString();
    const envelope = {
      id: deterministicUuid(`${runId}:e:${n}`),
      source: 'bench',
      occurredAt: at,
      key: id,
      correlationId: `bench-${n}`,
      causationId: null,
      version: 1 as const,
      sequence,
      previousHash: head?.hash ?? null,
    };
    let unhashed: Omit<ConsultationEvent, 'hash'>;
    if (!head) {
      unhashed = {
        ...envelope,
        actor: { kind: 'secretariat', id: 'secretariat' },
        type: 'consultation.opened',
        data: {
          consultationId: id,
          reference: `IO/${n % ids.length}`,
          title: `Draft rules of procedure ${n % ids.length}`,
          documents: [{ language: 'en', title: 'Draft rules of procedure', uri: 'https://example.org/io/rules.pdf' }],
          addressees: ADDRESSEES,
          deadline: '2027-01-01T00:00:00Z',
          reminderOffsetsSeconds: [604800, 86400, 3600],
          commentVisibility: 'own',
          openedAt: at,
        },
      };
    } else {
      const memberState = ADDRESSEES[sequence % ADDRESSEES.length]!;
      const b = sequence % BODIES.length;
      unhashed = {
        ...envelope,
        actor: { kind: 'member-state', id: memberState },
        type: 'consultation.comment-submitted',
        data: {
          commentId: deterministicUuid(`${runId}:m:${n}`),
          trackingNumber: `IO/${n % ids.length}/${memberState}/${sequence}`,
          memberState,
          body: BODIES[b]!,
          language: 'en',
          bodyHash: BODY_HASHES[b]!,
          idempotencyKey: `k-${sequence}`,
          receivedAt: at,
        },
      };
    }
    const hash = chainHash(unhashed, unhashed.previousHash);
    heads.set(id, { sequence, hash });
    yield { ...unhashed, hash } as ConsultationEvent;
  }
}

/** Bulk loader: sendBatch of 2,000 (a partition batch stays under the 1 MB message limit), several in flight, no idempotence (order per connection is kept). */
export async function produceReplayEvents(kafka: Kafka, topic: string, total: number, runId: string): Promise<number> {
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false });
  await producer.connect();
  const started = Date.now();
  const inFlight = new Set<Promise<unknown>>();
  let batch: Message[] = [];
  const flush = async (): Promise<void> => {
    const messages = batch;
    batch = [];
    const sent = producer.sendBatch({ acks: 1, topicMessages: [{ topic, messages }] });
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent)).catch(() => undefined);
    if (inFlight.size >= 8) await Promise.race(inFlight);
  };
  try {
    for (const event of consultationEvents(total, runId)) {
      batch.push({ key: event.key, value: JSON.stringify(event), headers: { 'event-type': event.type } });
      if (batch.length >= 2_000) await flush();
    }
    if (batch.length > 0) await flush();
    await Promise.all(inFlight);
  } finally {
    await producer.disconnect();
  }
  return Date.now() - started;
}

/** A plain kafkajs consumer that reads the topic to its end and only counts: the ceiling for any replay. */
async function rawConsume(kafka: Kafka, topic: string, total: number, logger: Logger): Promise<number> {
  const groupId = `${topic}.bench-raw-${randomBytes(4).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 8 * 1024 * 1024, maxBytes: 32 * 1024 * 1024, maxWaitTimeInMs: 100 });
  await consumer.connect();
  let count = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const started = Date.now();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        count += batch.messages.length;
        if (count >= total) done();
      },
    });
    await finished;
    return Date.now() - started;
  } finally {
    await consumer.disconnect().catch((error: unknown) => logger.warn({ err: error }, 'raw consumer disconnect failed'));
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

/**
 * Replay speed: produces `events` chained consultation events into fresh topics, then measures (a) a plain
 * kafkajs consumer reading them to the end doing nothing, (b) the audit rebuild (decode, validate, apply to a
 * fresh Redis key space with pipelined MULTIs), and their ratio. Deletes its topics and keys afterwards.
 */
export async function replayBenchmark(ctx: {
  kafkaBrokers: string;
  redisUrl: string;
  events: number;
  logger: Logger;
}): Promise<BenchRow[]> {
  const { logger } = ctx;
  const total = ctx.events;
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const topics: TopicNames = topicNames(`bench-replay-${runId}`);
  const keyPrefix = `bench:replay:${runId}`;
  const kafka = createKafka({ brokers: ctx.kafkaBrokers.split(','), clientId: 'bench-replay', logger });
  const redis = createRedis(ctx.redisUrl, logger);
  const benchmark = 'replay';
  try {
    await ensureTopics(kafka, topicSpecs(topics), logger);
    const produceMs = await produceReplayEvents(kafka, topics.consultationEvents, total, runId);
    logger.info({ events: total, ms: produceMs }, 'replay bench: events produced');
    const rawMs = await rawConsume(kafka, topics.consultationEvents, total, logger);
    const raw = Math.round((total * 1000) / Math.max(rawMs, 1));
    logger.info({ events: total, ms: rawMs, perSecond: raw }, 'replay bench: raw consumer');
    // The same rebuild writing MULTI/EXEC of commands instead of one script per chunk, for comparison.
    const viaMulti = await rebuildReadModels({ kafka, redis, logger, topics, keyPrefix: `${keyPrefix}:multi`, writer: 'multi' });
    await new KeySpace(`${keyPrefix}:multi`).clear(redis);
    const memoryBefore = await usedMemory(redis);
    const cpuBefore = process.cpuUsage();
    const rebuilt = await rebuildReadModels({ kafka, redis, logger, topics, keyPrefix });
    const cpu = process.cpuUsage(cpuBefore);
    for (const r of [rebuilt, viaMulti]) if (r.events !== total) throw new Error(`rebuild read ${r.events} of ${total} events`);
    const memoryAfter = await usedMemory(redis);
    logger.info({ events: total, ms: rebuilt.ms, perSecond: rebuilt.eventsPerSecond }, 'replay bench: rebuild');
    return [
      { benchmark, metric: 'events', value: total, unit: 'events' },
      { benchmark, metric: 'bulk produce', value: Math.round((total * 1000) / Math.max(produceMs, 1)), unit: 'events/s' },
      { benchmark, metric: 'raw consume (kafkajs, count only)', value: raw, unit: 'events/s' },
      {
        benchmark,
        metric: 'rebuild (decode+validate+apply to Redis)',
        value: rebuilt.eventsPerSecond,
        unit: 'events/s',
        baseline: raw,
        ratio: Number((rebuilt.eventsPerSecond / Math.max(raw, 1)).toFixed(3)),
      },
      {
        benchmark,
        metric: 'rebuild writing MULTI/EXEC instead of one script per chunk',
        value: viaMulti.eventsPerSecond,
        unit: 'events/s',
        baseline: raw,
        ratio: Number((viaMulti.eventsPerSecond / Math.max(raw, 1)).toFixed(3)),
      },
      { benchmark, metric: 'rebuild duration', value: rebuilt.ms, unit: 'ms' },
      // The process's own CPU per event: what the rebuild costs whatever else the machine is doing.
      { benchmark, metric: 'rebuild CPU per event', value: Number(((cpu.user + cpu.system) / Math.max(total, 1)).toFixed(1)), unit: 'µs' },
      { benchmark, metric: 'redis memory per event', value: Math.round((memoryAfter - memoryBefore) / Math.max(total, 1)), unit: 'bytes' },
    ];
  } finally {
    await new KeySpace(`${keyPrefix}:multi`).clear(redis).catch(() => undefined);
    await new KeySpace(keyPrefix).clear(redis).catch((error: unknown) => logger.warn({ err: error }, 'replay bench: key cleanup failed'));
    redis.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin
      .deleteTopics({ topics: topicSpecs(topics).map((s) => s.name) })
      .catch((error: unknown) => logger.warn({ err: error }, 'replay bench: topic cleanup failed'));
    await admin.disconnect();
  }
}

async function usedMemory(redis: ReturnType<typeof createRedis>): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}
