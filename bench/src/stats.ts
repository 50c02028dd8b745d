import type { BenchRow } from './types.js';

/** The median of repeated measurements (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median, minimum and maximum of repeated runs, as the fields of a row. */
export function summarise(runs: readonly number[]): { value: number; min: number; max: number; runs: number[] } {
  return { value: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs: [...runs] };
}

/** Rounds to `digits` significant decimals for display and JSON without hiding small per-event figures. */
export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * A row from repeated measurements: value = median, with min, max and the runs themselves; against a
 * baseline (itself a median of the same run), ratio = value / baseline.
 */
export function repeatedRow(
  benchmark: string,
  metric: string,
  unit: string,
  runs: readonly number[],
  options: { baseline?: number; digits?: number } = {},
): BenchRow {
  const digits = options.digits ?? 1;
  const value = round(median(runs), digits);
  const row: BenchRow = { benchmark, metric, value, unit };
  if (options.baseline !== undefined) {
    row.baseline = round(options.baseline, digits);
    row.ratio = Number((value / Math.max(options.baseline, Number.MIN_VALUE)).toFixed(3));
  }
  if (runs.length > 1) {
    row.min = round(Math.min(...runs), digits);
    row.max = round(Math.max(...runs), digits);
    row.runs = runs.map((r) => round(r, digits));
  }
  return row;
}

/** Events per second from a count and milliseconds. */
export function perSecond(events: number, ms: number): number {
  return Math.round((events * 1000) / Math.max(ms, 1));
}

/** CPU microseconds (user + system) per event from a process.cpuUsage() difference. */
export function cpuPerEvent(cpu: NodeJS.CpuUsage, events: number): number {
  return (cpu.user + cpu.system) / Math.max(events, 1);
}
