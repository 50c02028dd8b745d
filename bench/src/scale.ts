import { ConsultationWriter } from '@consult/consultation';
import { writerGroupId } from '@consult/contracts';
import { createKafka, deleteGroups, type KafkaClient } from '@consult/kafka';
import { createRedis, KeySpace, type Redis } from '@consult/redis';
import type { Logger } from 'pino';
import { baseEvents, dropHistory, keySpaceBytes, newHistory, prepareHistory, timedRebuild, type BenchContext, type History } from './replay.js';
import { cpuPerEvent, median, repeatedRow } from './stats.js';
import type { BenchRow } from './types.js';

interface SizeResult {
  label: string;
  events: number;
  rebuildPerSecond: number[];
  rebuildCpu: number[];
  bytesPerEvent: number;
  startupMs: number[];
  startupCpu: number[];
}

/**
 * The real consultation writer started over a history: from `start()` until `assigned` resolves, i.e. its
 * group gave it every command partition, it fenced their transactional ids and loaded the state of their
 * consultations from the events topic. A fresh group each time, deleted afterwards.
 */
async function writerStartup(kafka: KafkaClient, logger: Logger, history: History, rep: number): Promise<{ ms: number; cpuPerEvent: number }> {
  const groupId = `${writerGroupId(history.topics)}.bench-${rep}`;
  const writer = new ConsultationWriter({ kafka, logger, topics: history.topics, groupId });
  const cpuBefore = process.cpuUsage();
  const started = Date.now();
  try {
    await writer.start();
    await writer.assigned;
    const ms = Date.now() - started;
    return { ms, cpuPerEvent: cpuPerEvent(process.cpuUsage(cpuBefore), history.total) };
  } finally {
    await writer.stop().catch((error: unknown) => logger.warn({ err: error }, 'scale bench: writer stop failed'));
    await deleteGroups(kafka, [groupId], logger);
  }
}

async function measureSize(
  kafka: KafkaClient,
  redis: Redis,
  logger: Logger,
  label: string,
  events: number,
  rebuilds: number,
  startups: number,
): Promise<SizeResult> {
  const history = newHistory(`scale${label}`, events);
  const keyPrefix = `bench:scale:${history.runId}`;
  const result: SizeResult = { label, events, rebuildPerSecond: [], rebuildCpu: [], bytesPerEvent: Number.NaN, startupMs: [], startupCpu: [] };
  try {
    await prepareHistory(kafka, logger, history);
    // Alternated, so that whatever else the machine does falls on both figures alike.
    for (let rep = 0; rep < Math.max(rebuilds, startups); rep++) {
      if (rep < rebuilds) {
        const prefix = `${keyPrefix}:r${rep}`;
        const run = await timedRebuild(kafka, redis, logger, history, prefix);
        if (rep === 0) result.bytesPerEvent = (await keySpaceBytes(redis, prefix)) / events;
        await new KeySpace(prefix).clear(redis);
        result.rebuildPerSecond.push(run.eventsPerSecond);
        result.rebuildCpu.push(run.cpuPerEvent);
      }
      if (rep < startups) {
        const startup = await writerStartup(kafka, logger, history, rep);
        result.startupMs.push(startup.ms);
        result.startupCpu.push(startup.cpuPerEvent);
      }
      logger.info({ rep, ...result }, 'scale bench: repetition done');
    }
    return result;
  } finally {
    await new KeySpace(keyPrefix).clear(redis).catch((error: unknown) => logger.warn({ err: error }, 'scale bench: key cleanup failed'));
    await dropHistory(kafka, logger, history);
  }
}

/**
 * How cost grows with history: the same rebuild and the same writer start-up over 1× and 10× the events
 * (100,000 and 1,000,000; 20,000 and 200,000 with `quick`), each on fresh topics. Reports per size the
 * rebuild's events/s and CPU per event (this process), Redis memory per event of the rebuilt key space, and
 * the writer's start-up time and CPU per event of history; at 10× each against the 1× figure (ratio 1 =
 * flat cost per event; for start-up time, 10 = linear in history). Three repetitions each (`repetitions`),
 * the 10× rebuild once with `quick`.
 */
export async function scaleBenchmark(ctx: BenchContext & { repetitions?: number }): Promise<BenchRow[]> {
  const { logger } = ctx;
  const base = baseEvents(ctx.quick);
  const repetitions = ctx.repetitions ?? 3;
  const kafka = createKafka({ brokers: ctx.kafkaBrokers.split(','), clientId: 'bench-scale', logger });
  const redis = createRedis(ctx.redisUrl, logger);
  const benchmark = 'scale';
  try {
    const one = await measureSize(kafka, redis, logger, '1x', base, repetitions, repetitions);
    const ten = await measureSize(kafka, redis, logger, '10x', base * 10, ctx.quick ? 1 : repetitions, repetitions);
    const rows: BenchRow[] = [];
    for (const size of [one, ten]) {
      const tag = `${size.label} (${size.events.toLocaleString('en')} events)`;
      const against = (runs: number[]) => (size === one ? {} : { baseline: median(runs) });
      rows.push(
        repeatedRow(benchmark, `rebuild @ ${tag}`, 'events/s', size.rebuildPerSecond, { digits: 0, ...against(one.rebuildPerSecond) }),
        repeatedRow(benchmark, `rebuild CPU per event @ ${tag}`, 'µs', size.rebuildCpu, against(one.rebuildCpu)),
        {
          benchmark,
          metric: `Redis memory per event @ ${tag}`,
          value: Math.round(size.bytesPerEvent),
          unit: 'bytes',
          ...(size === one
            ? {}
            : { baseline: Math.round(one.bytesPerEvent), ratio: Number((size.bytesPerEvent / one.bytesPerEvent).toFixed(3)) }),
        },
        repeatedRow(benchmark, `writer start-up (start → assigned and loaded) @ ${tag}`, 'ms', size.startupMs, {
          digits: 0,
          ...against(one.startupMs),
        }),
        repeatedRow(benchmark, `writer start-up CPU per event of history @ ${tag}`, 'µs', size.startupCpu, against(one.startupCpu)),
      );
    }
    return rows;
  } finally {
    redis.disconnect();
  }
}
