import type { BenchRow } from './types.js';

/** What `npm run bench` writes into bench/results/latest.json. */
export interface BenchReport {
  startedAt: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; kernel: string };
  quick: boolean;
  infrastructure: { kafka: string; redis: string };
  rows: BenchRow[];
}

export const README_START = '<!-- bench-summary:start (written by npm run bench from bench/results/latest.json) -->';
export const README_END = '<!-- bench-summary:end -->';

const fmt = (n: number | undefined, unit = ''): string =>
  n === undefined || Number.isNaN(n) ? 'not measured' : `${Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(2)}${unit}`;
const ratio = (r: number | undefined): string => (r === undefined ? '' : `${r.toFixed(2)}×`);

/**
 * The README's performance table: the issue's targets beside the latest run's figures (with their same-run
 * baselines), so the README never states a figure that bench/results/latest.json does not hold.
 */
export function readmeSummary(report: BenchReport): string {
  const find = (benchmark: string | RegExp, metric: string | RegExp): BenchRow | undefined =>
    report.rows.find((r) => (typeof benchmark === 'string' ? r.benchmark === benchmark : benchmark.test(r.benchmark)) && (typeof metric === 'string' ? r.metric === metric : metric.test(r.metric)));
  const accepted = find('ingest', /vs \(b\)/);
  const floor = find('ingest', /vs \(a\)/);
  const knee = find('open loop', /^knee/);
  const atKnee = find(/^80% of knee/, /^201 latency/);
  const p99AtKnee = atKnee?.extra ? Number(atKnee.extra.split('/')[0]!.trim().replace(/,/g, '')) : undefined;
  const ryw = find('read-your-write', /p99/);
  const rebuild = find('replay', 'rebuild vs consume+parse+writes in series');
  const startTenX = find('scale', /^writer start-up \(start → assigned and loaded\) @ 10x/);
  const tenXEvents = Number(/\(([\d,]+) events\)/.exec(startTenX?.metric ?? '')?.[1]?.replace(/,/g, '') ?? NaN);
  const tenMillionSeconds = startTenX && tenXEvents > 0 ? (startTenX.value / tenXEvents) * 10_000_000 / 1000 : undefined;
  const cpu = find('cpu per accepted comment', 'all processes');
  const top = report.rows
    .filter((r) => r.benchmark === 'cpu per accepted comment' && r.metric !== 'all processes')
    .sort((a, b) => b.value - a.value)
    .slice(0, 3)
    .map((r) => `${r.metric} ${fmt(r.value, ' µs')}`)
    .join(', ');
  const m = report.machine;
  const lines = [
    `Latest run: ${report.startedAt}${report.quick ? ' (`--quick`)' : ''} on ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}; broker, Redis, every service and the load generator on that machine.`,
    '',
    '| figure | target | latest | same-run baseline | ratio |',
    '|---|---|---:|---:|---:|',
    `| accepted comments/s (201, durable, decided, visible) | ≥ 5,000/s and ≥ 25% of (b) | ${fmt(accepted?.value, '/s')} | (b) durable-ingest ceiling ${fmt(accepted?.baseline, '/s')} | ${ratio(accepted?.ratio)} |`,
    `| the same, against the HTTP floor | | ${fmt(floor?.value, '/s')} | (a) HTTP floor ${fmt(floor?.baseline, '/s')} | ${ratio(floor?.ratio)} |`,
    `| open-loop knee (≥ 95% 201, p99 < 1 s) | | ${fmt(knee?.value, '/s')} | | |`,
    `| 201 latency p99 at 80% of the knee | < 100 ms | ${fmt(p99AtKnee, ' ms')} | | |`,
    `| read-your-write p99 under that load | < 50 ms | ${fmt(ryw?.value, ' ms')} | plain read ${fmt(ryw?.baseline, ' ms')} | ${ratio(ryw?.ratio)} |`,
    `| rebuild of the read models | ≥ 40,000 events/s and ≥ 60% of the bare baseline | ${fmt(rebuild?.value, ' events/s')} | consume + parse + pipelined writes ${fmt(rebuild?.baseline, ' events/s')} | ${ratio(rebuild?.ratio)} |`,
    `| writer take-over of 10 million events of history (extrapolated from the 10× run) | < 30 s | ${fmt(tenMillionSeconds, ' s')} | | |`,
    `| writer start-up at 10× data | | ${fmt(startTenX?.value, ' ms')} | at 1× ${fmt(startTenX?.baseline, ' ms')} | ${ratio(startTenX?.ratio)} |`,
    `| CPU per accepted comment, all processes | | ${fmt(cpu?.value, ' µs')} | | |`,
    '',
    `The most CPU per accepted comment: ${top || 'not measured'}. Every row, with minimum and maximum over the repetitions: [bench/results/latest.md](bench/results/latest.md).`,
  ];
  return lines.join('\n');
}

/** The README with its summary block replaced; throws if the markers are missing. */
export function withReadmeSummary(readme: string, summary: string): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error('README.md lacks the bench-summary markers');
  return `${readme.slice(0, start + README_START.length)}\n${summary}\n${readme.slice(end)}`;
}
