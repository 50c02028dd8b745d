import { join } from 'node:path';
import { DEV_KEYS } from '@consult/admin';
import type { Logger } from '@consult/config';
import { repositoryRoot } from '@consult/environment';
import { ensureTopics } from '@consult/kafka';
import { ConsultationClient, type Pending } from '@consult/sdk';
import { percentile, runLoad, type RequestSpec } from './http-load.js';
import { runOpenLoop, type OpenLoopResult } from './open-loop.js';
import { cpuSecondsOf, pidListeningOn, residentBytesOf, type ServiceProcess } from './processes.js';
import { startSystem, type SystemUnderTest } from './system.js';
import { summarise } from './stats.js';
import type { BenchRow } from './types.js';

const STATES = ['KAZ', 'KHM', 'MNG', 'RUS', 'THA'] as const;
const CONCURRENCY = 256;

export interface IngestContext {
  kafkaBrokers: string;
  redisUrl: string;
  logger: Logger;
  quick: boolean;
}

/**
 * Accepted comments per second (201: durably in Kafka, decided once by the single writer, visible to the next
 * read) through two gateway processes of the whole production deployment, beside two baselines measured by the
 * same load generator in the same run:
 *  (a) the HTTP floor: the same gateway and route, authentication and validation, answering 201 without Kafka;
 *  (b) the durable-ingest ceiling: a bare Fastify route answering 201 once an idempotent acks=all producer has
 *      the record.
 * Then an open-loop sweep of offered rates to find the knee, latency of 201s at 80% of it with read-your-write
 * measured under that load, per-process CPU per accepted comment, and the warnings the services logged.
 */
export async function ingestBenchmark(ctx: IngestContext): Promise<BenchRow[]> {
  const repetitions = 3;
  const seconds = ctx.quick ? 4 : 8;
  const stepSeconds = ctx.quick ? 4 : 6;
  const system = await startSystem({ ...ctx, gateways: 2, topology: 'production' });
  try {
    const { consultations, rywTarget } = await openConsultations(system, ctx.quick ? 24 : 60);
    const comment = commentSpec(consultations);
    const rows: BenchRow[] = [];

    // The baselines, two processes each like the system's two gateways, on the system's key directory.
    const bench = join(repositoryRoot(), 'bench', 'dist', 'baselines');
    const ingestTopic = `${system.topics.consultationCommands}.bench-ingest`;
    await ensureTopics(system.kafka, [{ name: ingestTopic, partitions: 6, config: {} }], ctx.logger);
    const floors = [0, 1].map((i) => system.spawnBeside(`http-floor-${i}`, join(bench, 'http-floor.js'), { PORT: String(18_090 + i) }));
    const ceilings = [0, 1].map((i) =>
      system.spawnBeside(`durable-ingest-${i}`, join(bench, 'durable-ingest.js'), { PORT: String(18_095 + i), TOPIC: ingestTopic }),
    );
    const floorUrls = [0, 1].map((i) => `http://127.0.0.1:${18_090 + i}`);
    const ceilingUrls = [0, 1].map((i) => `http://127.0.0.1:${18_095 + i}`);
    await untilHealthy([...floorUrls, ...ceilingUrls], [...floors, ...ceilings]);

    // Warm every JIT, then interleave the repetitions so that drift on a noisy machine hits all three alike.
    for (const urls of [floorUrls, ceilingUrls, system.gateways]) await closedLoop(urls, comment('warm'), 2);
    const floorRuns: number[] = [];
    const ceilingRuns: number[] = [];
    const systemRuns: number[] = [];
    const cpu = new CpuMeter(system, ctx.kafkaBrokers);
    let accepted = 0;
    const statusTotals: Record<number, number> = {};
    for (let r = 0; r < repetitions; r++) {
      floorRuns.push((await closedLoop(floorUrls, comment(`floor${r}`), seconds)).perSecond201);
      ceilingRuns.push((await closedLoop(ceilingUrls, comment(`ceiling${r}`), seconds)).perSecond201);
      await cpu.start();
      const run = await closedLoop(system.gateways, comment(`run${r}`), seconds);
      await cpu.stop();
      systemRuns.push(run.perSecond201);
      accepted += run.byStatus[201] ?? 0;
      for (const [status, n] of Object.entries(run.byStatus)) statusTotals[Number(status)] = (statusTotals[Number(status)] ?? 0) + n;
    }
    await Promise.all([...floors, ...ceilings].map((p) => p.stop()));
    const floor = summarise(floorRuns);
    const ceiling = summarise(ceilingRuns);
    const system201 = summarise(systemRuns);
    rows.push(
      { benchmark: 'baseline', metric: '(a) HTTP floor: same route, no Kafka (closed loop)', ...floor, unit: '/s' },
      { benchmark: 'baseline', metric: '(b) durable-ingest ceiling: bare route + idempotent acks=all produce', ...ceiling, unit: '/s' },
      { benchmark: 'ingest', metric: 'accepted comments/s (201), vs (b)', ...system201, unit: '/s', baseline: ceiling.value, ratio: system201.value / ceiling.value },
      { benchmark: 'ingest', metric: 'accepted comments/s (201), vs (a)', ...system201, unit: '/s', baseline: floor.value, ratio: system201.value / floor.value },
      { benchmark: 'ingest', metric: 'closed-loop answers other than 201 (202, 4xx, 5xx, errors)', value: sumExcept(statusTotals, 201), unit: 'requests' },
    );
    rows.push(...cpu.rows(accepted));

    // Open loop: offered rates around the closed-loop figure, to find the knee.
    const steps: OpenLoopResult[] = [];
    const rates = new Set([0.4, 0.6, 0.8, 1.0, 1.2, 1.5].map((f) => Math.max(50, Math.round((system201.value * f) / 50) * 50)));
    for (const rate of rates) {
      const step = await runOpenLoop(system.gateways, comment(`open${rate}`), { ratePerSecond: rate, seconds: stepSeconds });
      steps.push(step);
      rows.push(...openLoopRows(`open loop @ ${rate}/s`, step));
    }
    const knee = kneeOf(steps);
    rows.push({ benchmark: 'open loop', metric: 'knee: highest offered rate still ≥95% accepted (201) with p99 < 1 s', value: knee, unit: '/s' });
    if (knee > 0) {
      const rate = Math.round(knee * 0.8);
      const [step, ryw] = await Promise.all([
        runOpenLoop(system.gateways, comment(`knee${rate}`), { ratePerSecond: rate, seconds: stepSeconds * 2 }),
        readYourWrite(system, rywTarget, stepSeconds * 2),
      ]);
      rows.push(...openLoopRows(`80% of knee (${rate}/s)`, step));
      rows.push(
        { benchmark: 'read-your-write', metric: `post→visible p50 under ${rate}/s`, value: percentile(ryw.samples, 50), unit: 'ms', baseline: percentile(ryw.reads, 50), ratio: percentile(ryw.samples, 50) / percentile(ryw.reads, 50) },
        { benchmark: 'read-your-write', metric: `post→visible p99 under ${rate}/s`, value: percentile(ryw.samples, 99), unit: 'ms', baseline: percentile(ryw.reads, 99), ratio: percentile(ryw.samples, 99) / percentile(ryw.reads, 99) },
        { benchmark: 'read-your-write', metric: 'samples (post, then read through the other gateway)', value: ryw.samples.length, unit: 'samples' },
      );
    }
    if (system.webhooks) rows.push({ benchmark: 'production', metric: 'webhook deliveries received during the run', value: system.webhooks.received, unit: 'deliveries' });
    rows.push(...logRows(system));
    return rows;
  } finally {
    await system.stop();
  }
}

async function openConsultations(system: SystemUnderTest, count: number): Promise<{ consultations: string[]; rywTarget: string }> {
  const secretariat = new ConsultationClient({ baseUrl: system.gateways[0]!, apiKey: DEV_KEYS.secretariat.secret });
  const ids: string[] = [];
  for (let i = 0; i <= count; i++) {
    const created = await secretariat.createConsultation({
      reference: `BENCH/${i}`,
      title: 'Benchmark consultation',
      documents: [{ language: 'en', title: 'Benchmark' }],
      addressees: [...STATES],
      deadline: new Date(Date.now() + 86_400_000).toISOString(),
    });
    if (created.status === 202) {
      // A brand-new broker's first transactions can outlast the gateway's wait: follow the 202, as integrators do.
      const decided = await secretariat.awaitDecision(created.body as unknown as Pending);
      const id = decided.body.receipt?.id;
      if (decided.body.status !== 'accepted' || typeof id !== 'string') throw new Error(`setup: consultation ${i} was not created`);
      ids.push(id);
    } else if (created.status === 201) ids.push(created.body.id);
    else throw new Error(`setup: creating a consultation answered ${created.status}`);
  }
  // The last one is kept out of the load, so its comment count moves only with read-your-write's own posts.
  return { consultations: ids.slice(0, count), rywTarget: ids[count]! };
}

/** Comment posts spread over consultations and member states; `run` keeps each run's Idempotency-Keys apart. */
function commentSpec(consultations: readonly string[]): (run: string) => (i: number) => RequestSpec {
  return (run) => (i) => {
    const state = STATES[i % STATES.length]!;
    return {
      method: 'POST',
      path: `/v1/consultations/${consultations[i % consultations.length]}/comments`,
      headers: {
        authorization: `Bearer ${DEV_KEYS[state].secret}`,
        'content-type': 'application/json',
        'idempotency-key': `${run}-${i}`,
      },
      body: JSON.stringify({ body: `Comment ${i}: the delegation supports the draft, with the amendment circulated.`, language: 'en' }),
    };
  };
}

/** The closed loop over several processes: the concurrency is split between them, the answers added up. */
async function closedLoop(
  urls: readonly string[],
  next: (i: number) => RequestSpec,
  seconds: number,
): Promise<{ perSecond201: number; byStatus: Record<number, number> }> {
  const share = Math.max(1, Math.floor(CONCURRENCY / urls.length));
  const results = await Promise.all(urls.map((url, index) => runLoad(url, (i) => next(index * 1_000_000_000 + i), { concurrency: share, seconds })));
  const byStatus: Record<number, number> = {};
  for (const r of results) for (const [s, n] of Object.entries(r.byStatus)) byStatus[Number(s)] = (byStatus[Number(s)] ?? 0) + n;
  return { perSecond201: (byStatus[201] ?? 0) / Math.max(...results.map((r) => r.seconds)), byStatus };
}

async function untilHealthy(urls: string[], processes: ServiceProcess[]): Promise<void> {
  const started = Date.now();
  for (;;) {
    const ok = await Promise.all(urls.map((u) => fetch(`${u}/healthz`).then((r) => r.ok, () => false)));
    if (ok.every(Boolean)) return;
    const dead = processes.find((p) => !p.alive);
    if (dead) throw new Error(`${dead.name} exited during start-up; its log: ${dead.log}`);
    if (Date.now() - started > 60_000) throw new Error('the baseline processes did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
}

function sumExcept(byStatus: Record<number, number>, status: number): number {
  return Object.entries(byStatus).reduce((sum, [s, n]) => (Number(s) === status ? sum : sum + n), 0);
}

function openLoopRows(label: string, step: OpenLoopResult): BenchRow[] {
  const ok = step.byStatus[201] ?? 0;
  return [
    { benchmark: label, metric: 'accepted (201)/s', value: ok / step.seconds, unit: '/s', baseline: step.offeredPerSecond, ratio: ok / step.seconds / step.offeredPerSecond },
    { benchmark: label, metric: '201 latency p50 / p99 / p99.9', value: percentile(step.latencies201Ms, 50), unit: 'ms', extra: `${fmtMs(percentile(step.latencies201Ms, 99))} / ${fmtMs(percentile(step.latencies201Ms, 99.9))}` },
    { benchmark: label, metric: '202 / other 4xx-5xx / errors / shed by client', value: step.byStatus[202] ?? 0, unit: 'requests', extra: `${sumExcept(step.byStatus, 201) - (step.byStatus[202] ?? 0) - step.errors} / ${step.errors} / ${step.shed}` },
  ];
}

const fmtMs = (ms: number): string => (Number.isNaN(ms) ? '–' : ms >= 100 ? String(Math.round(ms)) : ms.toFixed(1));

/** The highest offered rate whose 201s kept up (≥95%) with a p99 under a second. */
function kneeOf(steps: readonly OpenLoopResult[]): number {
  let knee = 0;
  for (const step of steps) {
    const ok = (step.byStatus[201] ?? 0) / step.seconds;
    if (ok >= 0.95 * step.offeredPerSecond && percentile(step.latencies201Ms, 99) < 1_000) knee = Math.max(knee, step.offeredPerSecond);
  }
  return knee;
}

/** Post a comment, then read through the other gateway until the comment count shows it, while the load runs. */
async function readYourWrite(system: SystemUnderTest, consultationId: string, seconds: number): Promise<{ samples: number[]; reads: number[] }> {
  const writer = new ConsultationClient({ baseUrl: system.gateways[0]!, apiKey: DEV_KEYS.KHM.secret });
  const reader = new ConsultationClient({ baseUrl: system.gateways[1]!, apiKey: DEV_KEYS.secretariat.secret });
  const samples: number[] = [];
  const reads: number[] = [];
  let expected = (await reader.getConsultation(consultationId)).body.commentCount;
  const endAt = Date.now() + seconds * 1000;
  for (let i = 0; Date.now() < endAt; i++) {
    const t0 = performance.now();
    const posted = await writer.postComment(consultationId, { body: `ryw ${i}`, language: 'en' }, `ryw-${Date.now()}-${i}`);
    if (posted.status !== 201) continue;
    expected += 1;
    for (;;) {
      const t1 = performance.now();
      const view = await reader.getConsultation(consultationId);
      reads.push(performance.now() - t1);
      if (view.body.commentCount >= expected) break;
    }
    samples.push(performance.now() - t0);
  }
  return { samples, reads };
}

/** CPU seconds per process over the measured windows only: every service, the broker, Redis and this load generator. */
class CpuMeter {
  private readonly used = new Map<string, number>();
  private before = new Map<string, number>();
  private peakRss = new Map<string, number>();
  private readonly pids: () => Map<string, number>;

  constructor(system: SystemUnderTest, kafkaBrokers: string) {
    const brokerPort = Number(kafkaBrokers.split(',')[0]!.split(':').pop());
    let redisPid: number | undefined;
    void system.redis.info('server').then((info) => (redisPid = Number(/process_id:(\d+)/.exec(info)?.[1]) || undefined), () => undefined);
    this.pids = () => {
      const pids = new Map<string, number>();
      for (const p of system.processes) if (p.pid && p.alive && !p.name.startsWith('http-floor') && !p.name.startsWith('durable-ingest')) pids.set(p.name, p.pid);
      const broker = pidListeningOn(brokerPort);
      if (broker) pids.set('kafka broker', broker);
      if (redisPid) pids.set('redis', redisPid);
      pids.set('load generator', process.pid);
      return pids;
    };
  }

  private snapshot(): Map<string, number> {
    const cpu = new Map<string, number>();
    for (const [name, pid] of this.pids()) {
      const seconds = cpuSecondsOf(pid);
      if (seconds !== undefined) cpu.set(name, seconds);
      const rss = residentBytesOf(pid);
      if (rss !== undefined) this.peakRss.set(name, Math.max(rss, this.peakRss.get(name) ?? 0));
    }
    return cpu;
  }

  async start(): Promise<void> {
    await new Promise((r) => setTimeout(r, 50));
    this.before = this.snapshot();
  }

  async stop(): Promise<void> {
    const after = this.snapshot();
    for (const [name, seconds] of after) {
      const before = this.before.get(name);
      if (before !== undefined) this.used.set(name, (this.used.get(name) ?? 0) + seconds - before);
    }
    await Promise.resolve();
  }

  rows(accepted: number): BenchRow[] {
    const total = [...this.used.values()].reduce((a, b) => a + b, 0);
    const perComment = (seconds: number): number => (seconds * 1e6) / Math.max(1, accepted);
    return [
      ...[...this.used.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([name, seconds]): BenchRow => ({
          benchmark: 'cpu per accepted comment',
          metric: name,
          value: perComment(seconds),
          unit: 'µs',
          extra: `${((100 * seconds) / Math.max(total, 1e-9)).toFixed(0)}% of all; peak RSS ${Math.round((this.peakRss.get(name) ?? 0) / 1_048_576)} MiB`,
        })),
      { benchmark: 'cpu per accepted comment', metric: 'all processes', value: perComment(total), unit: 'µs' },
    ];
  }
}

function logRows(system: SystemUnderTest): BenchRow[] {
  const counts = system.logCounts();
  const rows: BenchRow[] = [];
  let concurrent = 0;
  let aborted = 0;
  for (const [name, c] of Object.entries(counts)) {
    concurrent += c.concurrentTransactions;
    aborted += c.abortedTransactions;
    if (c.warnings + c.errors > 0) rows.push({ benchmark: 'logs', metric: `${name}: warnings / errors`, value: c.warnings, unit: 'lines', extra: String(c.errors) });
  }
  rows.push(
    { benchmark: 'logs', metric: 'CONCURRENT_TRANSACTIONS lines (all processes)', value: concurrent, unit: 'lines' },
    { benchmark: 'logs', metric: 'aborted transactions (all processes)', value: aborted, unit: 'lines' },
    { benchmark: 'logs', metric: `every process's log is in ${system.logDir}`, value: Object.keys(counts).length, unit: 'processes' },
  );
  return rows;
}
