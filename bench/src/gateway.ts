import { DEV_KEYS } from '@consult/admin';
import type { Logger } from '@consult/config';
import { ConsultationClient } from '@consult/sdk';
import { percentile, runLoad } from './http-load.js';
import { startSystem } from './system.js';
import type { BenchRow } from './types.js';

const STATES = ['KAZ', 'KHM', 'MNG', 'RUS', 'THA'] as const;

/**
 * Accepted comments per second through the gateway (201 = durably in Kafka AND visible in the read model),
 * beside the same gateway's raw HTTP ceiling (GET /healthz) measured with the same load generator; then
 * read-your-write latency: from sending a comment until a read shows it, beside a plain read.
 */
export async function gatewayBenchmark(ctx: {
  kafkaBrokers: string;
  redisUrl: string;
  logger: Logger;
  seconds: number;
  concurrency: number;
  gateways: number;
  rywSamples: number;
}): Promise<BenchRow[]> {
  const system = await startSystem({ ...ctx, gateways: ctx.gateways });
  try {
    const secretariat = new ConsultationClient({ baseUrl: system.gateways[0]!, apiKey: DEV_KEYS.secretariat.secret });
    const consultations: string[] = [];
    for (let i = 0; i < 24; i++) {
      const created = await secretariat.createConsultation({
        reference: `BENCH/${i}`,
        title: 'Benchmark consultation',
        documents: [{ language: 'en', title: 'Benchmark' }],
        addressees: [...STATES],
        deadline: new Date(Date.now() + 86_400_000).toISOString(),
      });
      if (created.status !== 201) throw new Error(`setup failed: ${created.status}`);
      consultations.push(created.body.id);
    }
    const rows: BenchRow[] = [];
    const gatewayPath = (i: number) => system.gateways[i % system.gateways.length]!;

    // Raw HTTP ceiling of the gateway process(es): the cheapest route, same client, same concurrency.
    const baseline = await runMulti(system.gateways, () => ({ method: 'GET', path: '/healthz' }), ctx.concurrency, Math.min(ctx.seconds, 8));
    const baselineRps = baseline.ok / baseline.seconds;

    // Warm-up, then the measured run.
    const body = (i: number) => JSON.stringify({ body: `Comment ${i}: the delegation supports the draft.`, language: 'en' });
    const commentSpec = (run: string) => (i: number) => {
      const state = STATES[i % STATES.length]!;
      return {
        method: 'POST',
        path: `/v1/consultations/${consultations[i % consultations.length]}/comments`,
        headers: {
          authorization: `Bearer ${DEV_KEYS[state].secret}`,
          'content-type': 'application/json',
          'idempotency-key': `${run}-${i}`,
        },
        body: body(i),
      };
    };
    await runMulti(system.gateways, commentSpec('warm'), ctx.concurrency, 3);
    const load = await runMulti(system.gateways, commentSpec('run'), ctx.concurrency, ctx.seconds);
    const acceptedRps = (load.byStatus[201] ?? 0) / load.seconds;
    rows.push(
      { benchmark: 'gateway', metric: 'accepted comments/s (201)', value: acceptedRps, unit: '/s', baseline: baselineRps, ratio: acceptedRps / baselineRps },
      { benchmark: 'gateway', metric: 'POST latency p50', value: percentile(load.latenciesMs, 50), unit: 'ms' },
      { benchmark: 'gateway', metric: 'POST latency p99', value: percentile(load.latenciesMs, 99), unit: 'ms' },
      { benchmark: 'gateway', metric: 'answered 202 (not visible in time)', value: load.byStatus[202] ?? 0, unit: 'requests' },
      { benchmark: 'gateway', metric: 'errors (not 201/202)', value: load.sent - (load.byStatus[201] ?? 0) - (load.byStatus[202] ?? 0), unit: 'requests' },
    );

    // Read-your-write: post, then read through ANOTHER gateway until the comment count shows it.
    const ryw: number[] = [];
    const reads: number[] = [];
    const khm = new ConsultationClient({ baseUrl: gatewayPath(0), apiKey: DEV_KEYS.KHM.secret });
    const reader = new ConsultationClient({ baseUrl: gatewayPath(1), apiKey: DEV_KEYS.secretariat.secret });
    const target = consultations[0]!;
    let expected = (await reader.getConsultation(target)).body.commentCount;
    for (let i = 0; i < ctx.rywSamples; i++) {
      const t0 = performance.now();
      const posted = await khm.postComment(target, { body: `ryw ${i}`, language: 'en' }, `ryw-${i}`);
      if (posted.status !== 201) throw new Error(`ryw post answered ${posted.status}`);
      expected += 1;
      for (;;) {
        const t1 = performance.now();
        const view = await reader.getConsultation(target);
        reads.push(performance.now() - t1);
        if (view.body.commentCount >= expected) break;
      }
      ryw.push(performance.now() - t0);
    }
    rows.push(
      { benchmark: 'read-your-write', metric: 'post→visible p50', value: percentile(ryw, 50), unit: 'ms', baseline: percentile(reads, 50), ratio: percentile(ryw, 50) / percentile(reads, 50) },
      { benchmark: 'read-your-write', metric: 'post→visible p99', value: percentile(ryw, 99), unit: 'ms', baseline: percentile(reads, 99), ratio: percentile(ryw, 99) / percentile(reads, 99) },
      { benchmark: 'read-your-write', metric: 'reads needed per write (1 = visible at once)', value: reads.length / ryw.length, unit: 'reads' },
    );
    return rows;
  } finally {
    await system.stop();
  }
}

/** Splits the concurrency over the gateways and adds up what they answered. */
async function runMulti(
  gateways: string[],
  next: (i: number) => { method: string; path: string; headers?: Record<string, string>; body?: string },
  concurrency: number,
  seconds: number,
): Promise<{ ok: number; sent: number; seconds: number; byStatus: Record<number, number>; latenciesMs: number[] }> {
  const share = Math.max(1, Math.floor(concurrency / gateways.length));
  const results = await Promise.all(
    gateways.map((g, index) => {
      const base = index * 1_000_000_000;
      return runLoad(g, (i) => next(base + i), { concurrency: share, seconds });
    }),
  );
  const byStatus: Record<number, number> = {};
  for (const r of results) for (const [s, n] of Object.entries(r.byStatus)) byStatus[Number(s)] = (byStatus[Number(s)] ?? 0) + n;
  return {
    ok: Object.entries(byStatus).filter(([s]) => Number(s) < 300).reduce((a, [, n]) => a + n, 0),
    sent: results.reduce((a, r) => a + r.sent, 0),
    seconds: Math.max(...results.map((r) => r.seconds)),
    byStatus,
    latenciesMs: results.flatMap((r) => r.latenciesMs),
  };
}
