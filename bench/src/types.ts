/**
 * One measured figure; `baseline` is the raw figure measured in the same run, `ratio` = value / baseline.
 * A figure repeated `runs.length` times has `value` = the median and `min`/`max` beside it.
 */
export interface BenchRow {
  benchmark: string;
  metric: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
  min?: number;
  max?: number;
  runs?: number[];
  /** Further figures of the same row, already formatted (e.g. "p99 / p99.9"). */
  extra?: string;
}

/** Median, minimum and maximum of repeated runs, as the fields of a row. */
export function summarise(runs: readonly number[]): { value: number; min: number; max: number; runs: number[] } {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { value: median, min: sorted[0]!, max: sorted[sorted.length - 1]!, runs: [...runs] };
}
