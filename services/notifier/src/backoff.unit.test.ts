import { describe, expect, it } from 'vitest';
import { retryDelayMs, shouldRetry } from './backoff.js';

const policy = { baseDelayMs: 1_000, maxDelayMs: 60_000, maxAttempts: 6 };

describe('retry backoff', () => {
  it('doubles per failure, between half and all of the step (equal jitter), capped', () => {
    const low = (n: number) => retryDelayMs(n, policy, () => 0);
    const high = (n: number) => retryDelayMs(n, policy, () => 1);
    expect([1, 2, 3, 4].map(low)).toEqual([500, 1_000, 2_000, 4_000]);
    expect([1, 2, 3, 4].map(high)).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(high(20)).toBe(60_000);
    expect(low(20)).toBe(30_000);
    for (let i = 0; i < 100; i++) {
      const d = retryDelayMs(3, policy);
      expect(d).toBeGreaterThanOrEqual(2_000);
      expect(d).toBeLessThanOrEqual(4_000);
    }
  });

  it('retries until the attempts of a round are used up', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => shouldRetry(n, policy))).toEqual([true, true, true, true, true, false]);
  });
});
