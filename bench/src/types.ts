/**
 * One measured figure; `baseline` is the raw figure measured in the same run, `ratio` = value / baseline.
 * A figure measured several times has `value` = the median of `runs`, with their `min` and `max`.
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
