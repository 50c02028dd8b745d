import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '@consult/config';
import { provideInfrastructure, repositoryRoot } from '@consult/environment';
import { deadlineBenchmark } from './deadlines.js';
import { ingestBenchmark } from './ingest.js';
import { notificationBenchmark } from './notifications.js';
import { replayBenchmark } from './replay.js';
import { scaleBenchmark } from './scale.js';
import { readmeSummary, withReadmeSummary, type BenchReport } from './readme-summary.js';
import type { BenchRow } from './types.js';

/**
 * `npm run bench [-- --only ingest,replay,scale,deadlines,notifications] [--quick]`: runs the benchmarks on the
 * infrastructure found the usual way (on a fresh clone: a broker started by infra/kafka/kafka.sh, and stopped
 * again), prints one table and writes bench/results/<time>.json, latest.json and latest.md. Figures are ratios
 * to a baseline measured in the same run wherever one exists: these machines are small and noisy.
 */
const { values } = parseArgs({
  options: { only: { type: 'string' }, quick: { type: 'boolean', default: false }, events: { type: 'string' } },
});
const only = values.only ? new Set(values.only.split(',')) : undefined;
const quick = values.quick ?? false;
const logger = createLogger('bench', { level: 'warn', pretty: false });

const infra = await provideInfrastructure({ logger });
const ctx = { kafkaBrokers: infra.kafkaBrokers, redisUrl: infra.redisUrl, logger };
const rows: BenchRow[] = [];
const started = new Date();
try {
  if (!only || only.has('ingest') || only.has('gateway')) rows.push(...(await ingestBenchmark({ ...ctx, quick })));
  if (!only || only.has('replay'))
    rows.push(...(await replayBenchmark({ ...ctx, quick, ...(values.events ? { events: Number(values.events) } : {}) })));
  if (!only || only.has('scale')) rows.push(...(await scaleBenchmark({ ...ctx, quick })));
  if (!only || only.has('deadlines')) rows.push(...(await deadlineBenchmark({ ...ctx, reminders: quick ? 2_000 : 10_000 })));
  if (!only || only.has('notifications'))
    rows.push(...(await notificationBenchmark({ ...ctx, notifications: quick ? 2_000 : 10_000 })));
} finally {
  await infra.stop();
}

const fmt = (n: number | undefined): string =>
  n === undefined || Number.isNaN(n) ? '' : Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(2);
const table = [
  ['benchmark', 'metric', 'value', 'min–max', 'unit', 'more', 'baseline', 'ratio'],
  ...rows.map((r) => [
    r.benchmark,
    r.metric,
    fmt(r.value),
    r.min === undefined ? '' : `${fmt(r.min)}–${fmt(r.max)}`,
    r.unit,
    r.extra ?? '',
    fmt(r.baseline),
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
  ]),
];
const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
const numeric = new Set([2, 3, 6, 7]);
for (const [i, row] of table.entries()) {
  process.stdout.write(`${row.map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ')}\n`);
  if (i === 0) process.stdout.write(`${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
}
const markdown = [
  `| ${table[0]!.join(' | ')} |`,
  `|${table[0]!.map((_, c) => (numeric.has(c) ? '---:' : '---')).join('|')}|`,
  ...table.slice(1).map((row) => `| ${row.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`),
].join('\n');
const dir = join(repositoryRoot(), 'bench', 'results');
mkdirSync(dir, { recursive: true });
const report: BenchReport = {
  startedAt: started.toISOString(),
  machine: machine(),
  quick,
  infrastructure: { kafka: infra.kafkaSource, redis: infra.redisSource },
  rows,
};
const file = join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(report, null, 2));
writeFileSync(join(dir, 'latest.json'), JSON.stringify(report, null, 2));
const m = report.machine;
writeFileSync(
  join(dir, 'latest.md'),
  `Run ${report.startedAt}${quick ? ' (--quick)' : ''} on ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, ${m.kernel}; Kafka ${report.infrastructure.kafka}, Redis ${report.infrastructure.redis}.\n\n${markdown}\n`,
);
const readme = join(repositoryRoot(), 'README.md');
writeFileSync(readme, withReadmeSummary(readFileSync(readme, 'utf8'), readmeSummary(report)));
process.stdout.write(`\nwritten ${file}, bench/results/latest.{json,md} and the README's summary\n`);
process.exit(0);

function machine(): { cpus: number; cpuModel: string; memoryGiB: number; node: string; kernel: string } {
  const all = cpus();
  return {
    cpus: all.length,
    cpuModel: all[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: `Linux ${release()}`,
  };
}
