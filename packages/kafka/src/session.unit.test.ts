import { describe, expect, it } from 'vitest';
import { DEFAULT_SESSION_MS, SHORTEST_SESSION_MS, sessionWithin } from './session.js';

describe('the failover session', () => {
  it('is the broker minimum, never below 3 s, and 6 s (the stock minimum) when unknown', () => {
    expect(sessionWithin(3_000)).toBe(3_000);
    expect(sessionWithin(4_500)).toBe(4_500);
    expect(sessionWithin(1_000)).toBe(SHORTEST_SESSION_MS);
    expect(sessionWithin(6_000)).toBe(DEFAULT_SESSION_MS);
    expect(sessionWithin(10_000)).toBe(10_000);
    expect(sessionWithin(Number.NaN)).toBe(DEFAULT_SESSION_MS);
  });
});
