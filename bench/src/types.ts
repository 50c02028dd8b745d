/** One measured number of a benchmark, optionally beside the baseline it is compared with. */
export interface BenchRow {
  benchmark: string;
  metric: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
}
