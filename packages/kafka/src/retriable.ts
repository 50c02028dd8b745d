import type { Logger } from 'pino';
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

/**
 * Errors of a topic that was just created: the controller has a leader for each partition but the broker
 * has not started hosting it yet ("This server does not host this topic-partition"), or the leader is still
 * being elected. They pass within seconds; kafkajs' own retries do not always outlast them on a new broker.
 */
const FRESH_TOPIC_ERRORS = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER']);

export function isFreshTopicError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const { type, message } = e as { type?: unknown; message?: unknown };
    if (typeof type === 'string' && FRESH_TOPIC_ERRORS.has(type)) return true;
    if (typeof message === 'string' && /does not host this topic-partition|leader not available|not the leader/i.test(message)) return true;
    e = (e as { originalError?: unknown; cause?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Runs `operation` again (with backoff, up to `timeoutMs`) while it fails with a fresh-topic error. */
export async function retryWhileFresh<T>(operation: () => Promise<T>, logger: Logger, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isFreshTopicError(error) || Date.now() > deadline) throw error;
      const delay = Math.min(2_000, 100 * 2 ** attempt);
      logger.info({ err: error, attempt, delay }, 'topic not ready yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
