import { describe, expect, it } from 'vitest';
import { ProgressWatch } from './progress-watch.js';

describe('ProgressWatch', () => {
  it('calls a consumer with work whose positions do not move stalled after the limit', () => {
    const watch = new ProgressWatch(2_000);
    expect(watch.observe('writer', 'p0=10', 5, 0)).toBe(0);
    expect(watch.observe('writer', 'p0=10', 5, 1_000)).toBe(0);
    expect(watch.observe('writer', 'p0=10', 7, 2_500)).toBe(2_500);
  });

  it('never calls an idle consumer stalled, nor one whose positions move', () => {
    const watch = new ProgressWatch(2_000);
    expect(watch.observe('idle', 'p0=10', 0, 0)).toBe(0);
    expect(watch.observe('idle', 'p0=10', 0, 60_000)).toBe(0);
    expect(watch.observe('busy', 'p0=10', 50, 0)).toBe(0);
    expect(watch.observe('busy', 'p0=11', 50, 3_000)).toBe(0);
    expect(watch.observe('busy', 'p0=12', 50, 6_000)).toBe(0);
  });

  it('starts counting again when work appears after idleness', () => {
    const watch = new ProgressWatch(2_000);
    watch.observe('w', 'p0=10', 0, 0);
    expect(watch.observe('w', 'p0=10', 3, 10_000)).toBe(0);
    expect(watch.observe('w', 'p0=10', 3, 12_500)).toBe(2_500);
  });
});
