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
import { bulkProduce, consumeToEnd, countMessages, createKafka, deleteTopics, ensureTopics, type KafkaClient, type ProducedRecord } from '@consult/kafka';
import { createRedis, KeySpace, type Redis } from '@consult/redis';
import { rebuildReadModels } from '@consult/replay';
import type { Logger } from 'pino';
import { cpuPerEvent, median, perSecond, repeatedRow, round } from './stats.js';
import type { BenchRow } from './types.js';

/** What every benchmark of this file and scale.ts is given (run.ts builds it). */
export interface BenchContext {
  kafkaBrokers: string;
  redisUrl: string;
  logger: Logger;
  /** Smaller data: 20,000 events instead of 100,000 at 1×. */
  quick?: boolean;
}

/** Events at 1× data (10× is ten times as many). */
export function baseEvents(quick: boolean | undefined): number {
  return quick ? 20_000 : 100_000;
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

/** Realistic chained consultation events as Kafka messages, keyed by consultation as the writer produces them. */
function* eventMessages(total: number, runId: string): Generator<ProducedRecord> {
  for (const event of consultationEvents(total, runId))
    yield { key: event.key, value: JSON.stringify(event), headers: { 'event-type': event.type } };
}

/** Fresh topics under a unique prefix, to hold `total` chained consultation events. */
export interface History {
  runId: string;
  topics: TopicNames;
  total: number;
  produceMs: number;
}

/** Names fresh topics (nothing is created yet): whoever asks deletes them with dropHistory, whatever happens. */
export function newHistory(label: string, total: number): History {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  return { runId, topics: topicNames(`bench-${label}-${runId}`), total, produceMs: Number.NaN };
}

/**
 * Creates the history's topics, loads its events
 * into the consultation events topic and checks that exactly that many arrived.
 */
export async function prepareHistory(kafka: KafkaClient, logger: Logger, history: History): Promise<void> {
  const specs = topicSpecs(history.topics);
  // Creates them and waits until a brand-new broker hosts every partition.
  await ensureTopics(kafka, specs, logger);
  const topic = history.topics.consultationEvents;
  history.produceMs = await bulkProduce(kafka, topic, eventMessages(history.total, history.runId), { logger });
  const stored = await countMessages(kafka, topic, logger);
  if (stored !== history.total) throw new Error(`${topic} holds ${stored} records; ${history.total} were produced`);
  logger.info({ topic, events: history.total, ms: history.produceMs }, 'bench history produced');
}

export async function dropHistory(kafka: KafkaClient, logger: Logger, history: History): Promise<void> {
  await deleteTopics(kafka, topicSpecs(history.topics).map((s) => s.name), logger);
}

/**
 * The Redis writes a script-mode rebuild sends, captured instead of sent: the rebuild runs against a stand-in
 * that answers its emptiness check and records each chunk's EVAL payload (the merged commands of the chunk,
 * offsets included). Same commands, same keys (under `keyPrefix`), same order per key.
 */
export async function captureRebuildCommands(
  kafka: KafkaClient,
  logger: Logger,
  topics: TopicNames,
  keyPrefix: string,
): Promise<{ commands: string[][]; events: number }> {
  const commands: string[][] = [];
  const recorder = {
    scan: async () => ['0', []],
    // One script per hash tag, its keys declared: KEYS, then the commands with each key as its index in KEYS.
    eval: async (_script: string, numKeys: number, ...rest: string[]) => {
      const keys = rest.slice(0, numKeys);
      for (const [name, key, ...args] of JSON.parse(rest[numKeys]!) as (string | number)[][])
        commands.push([String(name), typeof key === 'number' ? keys[key - 1]! : String(key), ...args.map(String)]);
      return 0;
    },
  } as unknown as Redis;
  const { events } = await rebuildReadModels({ kafka, redis: recorder, logger, topics, keyPrefix });
  return { commands, events };
}

/**
 * Sends commands pipelined on one connection, `perPipeline` commands per pipeline and `maxInFlight`
 * pipelines unanswered at once (the rebuild's own in-flight limit); fails on any command error. Returns ms.
 */
export async function sendPipelined(redis: Redis, commands: readonly string[][], perPipeline = 1_000, maxInFlight = 4): Promise<number> {
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  let failure: Error | undefined;
  for (let start = 0; start < commands.length; start += perPipeline) {
    const pipeline = redis.pipeline();
    for (let i = start; i < Math.min(commands.length, start + perPipeline); i++) {
      const [name, ...args] = commands[i]!;
      void pipeline.call(name!, ...args);
    }
    const sent = pipeline.exec().then(
      (results) => {
        const failed = results?.find(([error]) => error);
        if (!results || failed) failure ??= failed?.[0] ?? new Error('pipeline discarded');
      },
      (error: unknown) => void (failure ??= error instanceof Error ? error : new Error(String(error))),
    );
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent));
    if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    if (failure) break;
  }
  await Promise.all(inFlight);
  if (failure) throw failure;
  return Date.now() - started;
}

/** One rebuild into a fresh key space, timed, with this process's CPU; checks it read every event. */
export async function timedRebuild(
  kafka: KafkaClient,
  redis: Redis,
  logger: Logger,
  history: History,
  keyPrefix: string,
  writer: 'script' | 'multi' = 'script',
): Promise<{ ms: number; eventsPerSecond: number; cpuPerEvent: number }> {
  const cpuBefore = process.cpuUsage();
  const result = await rebuildReadModels({ kafka, redis, logger, topics: history.topics, keyPrefix, writer });
  const cpu = process.cpuUsage(cpuBefore);
  if (result.events !== history.total) throw new Error(`rebuild read ${result.events} of ${history.total} events`);
  return { ms: result.ms, eventsPerSecond: result.eventsPerSecond, cpuPerEvent: cpuPerEvent(cpu, result.events) };
}

/**
 * Bytes Redis holds for a key space: MEMORY USAGE of each key (all of its elements), summed. Unlike
 * used_memory, it is not moved by other clients of a shared Redis or by lazy frees still running.
 */
export async function keySpaceBytes(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let bytes = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const key of keys) void pipeline.call('memory', 'usage', key, 'samples', '0');
    for (const [error, size] of (await pipeline.exec()) ?? []) if (!error) bytes += Number(size ?? 0);
  } while (cursor !== '0');
  return bytes;
}

/**
 * Replay and rebuild next to same-run baselines, on fresh topics holding `events` chained consultation
 * events (default 100,000; 20,000 with `quick`), each figure measured `repetitions` times (default 3),
 * interleaved so that noise falls on all of them alike:
 * - a bare consumer of the topic that only counts, and one that also JSON-parses each record value;
 * - the Redis writes the rebuild sends (captured from a rebuild beforehand), sent pipelined by a bare
 *   ioredis client in pipelines of 1,000 commands;
 * - the rebuild itself (read, decode, validate, apply with one EVAL per chunk), and its MULTI/EXEC variant.
 * Deletes its topics and keys afterwards.
 */
export async function replayBenchmark(ctx: BenchContext & { events?: number; repetitions?: number }): Promise<BenchRow[]> {
  const { logger } = ctx;
  const total = ctx.events ?? baseEvents(ctx.quick);
  const repetitions = ctx.repetitions ?? 3;
  const kafka = createKafka({ brokers: ctx.kafkaBrokers.split(','), clientId: 'bench-replay', logger });
  const redis = createRedis(ctx.redisUrl, logger);
  // The baseline's own connection: no auto-pipelining, nothing but the pipelines it is given.
  const bare = createRedis(ctx.redisUrl, logger, { enableAutoPipelining: false });
  const benchmark = 'replay';
  const history = newHistory('replay', total);
  const keyPrefix = `bench:replay:${history.runId}`;
  try {
    await prepareHistory(kafka, logger, history);
    const topic = history.topics.consultationEvents;
    const baselinePrefix = `${keyPrefix}:baseline`;
    const captured = await captureRebuildCommands(kafka, logger, history.topics, baselinePrefix);
    if (captured.events !== total) throw new Error(`capture read ${captured.events} of ${total} events`);
    const commandBytes = captured.commands.reduce((sum, c) => sum + c.reduce((s, a) => s + Buffer.byteLength(a), 0), 0);

    const counted: number[] = [];
    const parsed: number[] = [];
    const piped: number[] = [];
    const rebuilt: number[] = [];
    const rebuiltMs: number[] = [];
    const rebuiltCpu: number[] = [];
    const viaMulti: number[] = [];
    let bytesPerEvent = Number.NaN;
    for (let rep = 0; rep < repetitions; rep++) {
      const count = await consumeToEnd(kafka, { topic, logger, groupIdPrefix: `${topic}.bench-count` });
      if (count.messages !== total) throw new Error(`count-only consumer read ${count.messages} of ${total}`);
      counted.push(perSecond(total, count.ms));

      let fields = 0;
      const parse = await consumeToEnd(kafka, {
        topic,
        logger,
        groupIdPrefix: `${topic}.bench-parse`,
        onBatch: (_partition, messages) => {
          for (const m of messages) fields += Object.keys(JSON.parse(m.value?.toString('utf8') ?? 'null') as object).length;
        },
      });
      if (parse.messages !== total || fields === 0) throw new Error(`parsing consumer read ${parse.messages} of ${total}`);
      parsed.push(perSecond(total, parse.ms));

      const pipeMs = await sendPipelined(bare, captured.commands);
      await new KeySpace(baselinePrefix).clear(redis);
      piped.push(perSecond(total, pipeMs));

      const prefix = `${keyPrefix}:r${rep}`;
      const run = await timedRebuild(kafka, redis, logger, history, prefix);
      if (rep === 0) bytesPerEvent = (await keySpaceBytes(redis, prefix)) / total;
      await new KeySpace(prefix).clear(redis);
      rebuilt.push(run.eventsPerSecond);
      rebuiltMs.push(run.ms);
      rebuiltCpu.push(run.cpuPerEvent);

      const multiPrefix = `${keyPrefix}:m${rep}`;
      viaMulti.push((await timedRebuild(kafka, redis, logger, history, multiPrefix, 'multi')).eventsPerSecond);
      await new KeySpace(multiPrefix).clear(redis);
      logger.info({ rep, counted, parsed, piped, rebuilt, viaMulti }, 'replay bench: repetition done');
    }

    const parseBase = Math.round(median(parsed));
    const pipeBase = Math.round(median(piped));
    // Reading-and-parsing and then writing, one after the other, with no overlap: what a rebuild that did
    // nothing but those two, unpipelined between them, would reach.
    const serial = Math.round(1 / (1 / parseBase + 1 / pipeBase));
    return [
      { benchmark, metric: 'events', value: total, unit: 'events' },
      { benchmark, metric: 'bulk produce (acks=1, 500 per partition and request)', value: perSecond(total, history.produceMs), unit: 'events/s' },
      { benchmark, metric: 'Redis commands the rebuild sends per event', value: round(captured.commands.length / total, 2), unit: 'commands' },
      { benchmark, metric: 'Redis command bytes per event (arguments)', value: Math.round(commandBytes / total), unit: 'bytes' },
      repeatedRow(benchmark, 'baseline: bare consumer, count only', 'events/s', counted, { digits: 0 }),
      repeatedRow(benchmark, 'baseline: bare consumer + JSON.parse of each value', 'events/s', parsed, { digits: 0 }),
      repeatedRow(benchmark, "baseline: the rebuild's Redis writes, pipelined (1,000/pipeline, bare ioredis)", 'events/s', piped, {
        digits: 0,
      }),
      { benchmark, metric: 'baseline: consume+parse, then pipelined writes, in series (derived)', value: serial, unit: 'events/s' },
      repeatedRow(benchmark, 'rebuild vs consume+parse', 'events/s', rebuilt, { baseline: parseBase, digits: 0 }),
      repeatedRow(benchmark, 'rebuild vs pipelined writes', 'events/s', rebuilt, { baseline: pipeBase, digits: 0 }),
      repeatedRow(benchmark, 'rebuild vs consume+parse+writes in series', 'events/s', rebuilt, { baseline: serial, digits: 0 }),
      repeatedRow(benchmark, 'rebuild writing MULTI/EXEC (vs consume+parse)', 'events/s', viaMulti, { baseline: parseBase, digits: 0 }),
      repeatedRow(benchmark, 'rebuild duration', 'ms', rebuiltMs, { digits: 0 }),
      // The process's own CPU per event: what the rebuild costs whatever else the machine is doing.
      repeatedRow(benchmark, 'rebuild CPU per event (this process)', 'µs', rebuiltCpu),
      { benchmark, metric: 'Redis memory per event (MEMORY USAGE of the rebuilt keys)', value: Math.round(bytesPerEvent), unit: 'bytes' },
    ];
  } finally {
    await new KeySpace(keyPrefix).clear(redis).catch((error: unknown) => logger.warn({ err: error }, 'replay bench: key cleanup failed'));
    redis.disconnect();
    bare.disconnect();
    await dropHistory(kafka, logger, history);
  }
}
