export interface BenchRow { benchmark: string; metric: string; value: number; unit: string; baseline?: number; ratio?: number }
