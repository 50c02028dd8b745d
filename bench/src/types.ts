/** One measured figure; `baseline` is the raw figure measured in the same run, `ratio` = value / baseline. */
export interface BenchRow {
  benchmark: string;
  metric: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
}
