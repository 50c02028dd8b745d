import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeSummary, withReadmeSummary, type BenchReport } from './readme-summary.js';

const root = join(import.meta.dirname, '..', '..');

describe('the README performance table', () => {
  it('is the summary of the committed bench/results/latest.json, figure for figure', () => {
    const report = JSON.parse(readFileSync(join(root, 'bench', 'results', 'latest.json'), 'utf8')) as BenchReport;
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(withReadmeSummary(readme, readmeSummary(report))).toBe(readme);
  });

  it('shows each figure beside its target and its same-run baseline', () => {
    const report: BenchReport = {
      startedAt: '2026-12-03T00:00:00.000Z',
      machine: { cpus: 2, cpuModel: 'cpu', memoryGiB: 24, node: 'v20', kernel: 'Linux' },
      quick: false,
      infrastructure: { kafka: 'local', redis: 'local' },
      rows: [{ benchmark: 'ingest', metric: 'accepted comments/s (201), vs (b)', value: 1_000, unit: '/s', baseline: 8_000, ratio: 0.125 }],
    };
    const summary = readmeSummary(report);
    expect(summary).toContain('| accepted comments/s (201, durable, decided, visible) | ≥ 5,000/s and ≥ 25% of (b) | 1,000/s | (b) durable-ingest ceiling 8,000/s | 0.13× |');
    expect(summary).toContain('| read-your-write p99 under that load | < 50 ms | not measured |');
  });
});
