/**
 * An error kafkajs retries instead of stopping the consumer for good (which it does for any error it does not
 * know to be retriable, e.g. a Redis connection error). The original error is kept in `reason`, not in
 * `cause`, because kafkajs judges retriability by the innermost cause.
 */
export class RetriableError extends Error {
  readonly code: string = 'RETRIABLE';
  readonly retriable = true;
  constructor(
    message: string,
    readonly reason: unknown,
  ) {
    super(`${message}: ${reason instanceof Error ? reason.message : String(reason)}`);
    this.name = 'RetriableError';
  }
}

/**
 * Waits for `ready` while heartbeating: kafkajs only heartbeats between batches, so a batch that waits for a
 * long load (a writer rebuilding state, a consumer reading its offsets) would otherwise be evicted from its
 * group after the session timeout.
 */
export async function heartbeatUntil(
  ready: Promise<unknown>,
  heartbeat: () => Promise<void>,
  everyMs = 1_000,
  /** Stop heartbeating (but keep waiting) after this long: work that never ends must not look alive for ever. */
  forAtMostMs = Number.POSITIVE_INFINITY,
): Promise<void> {
  let settled = false;
  const done = ready.then(
    () => (settled = true),
    () => (settled = true),
  );
  const giveUpAt = Date.now() + forAtMostMs;
  while (!settled && Date.now() < giveUpAt) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, everyMs)))]);
    clearTimeout(timer);
    if (!settled) await heartbeat().catch(() => undefined);
  }
  await ready;
}
