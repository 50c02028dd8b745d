export interface RetryPolicy {
  /** Delay before the second attempt; doubles with each further one. */
  baseDelayMs: number;
  /** Upper bound of one delay. */
  maxDelayMs: number;
  /** Attempts per round (the first try included) before the delivery is dead-lettered. */
  maxAttempts: number;
}

/**
 * Delay before the next attempt after `failedAttempts` failures (>= 1): exponential, capped, with "equal
 * jitter" (half fixed, half random) so retries of many deliveries spread out yet never come back at once.
 */
export function retryDelayMs(failedAttempts: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const exponent = Math.max(0, failedAttempts - 1);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(exponent, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Whether another attempt follows `failedAttempts` failures in this round. */
export function shouldRetry(failedAttempts: number, policy: Pick<RetryPolicy, 'maxAttempts'>): boolean {
  return failedAttempts < policy.maxAttempts;
}
