/** One measured number of a benchmark, beside its raw baseline when there is one (ratio = value / baseline). */
export interface BenchRow {
  benchmark: string;
  metric: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
}
