import type { Consumer } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaClient } from './client.js';
import { kafkajsOf } from './kafkajs-client.js';

/**
 * What `readToEnd` and the bare `consumeToEnd` baseline share: a throw-away group consumer with large fetches,
 * and the watch that ends the read once every partition was handed over up to the end it had at the start.
 */
export function toEndConsumer(kafka: KafkaClient, groupId: string): Consumer {
  return kafkajsOf(kafka).consumer({
    groupId,
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
    readUncommitted: false,
  });
}

export interface ToEndWatch {
  /** Resolves once every partition of `remaining` reached its end, or the consumer crashed for good. */
  finished: Promise<void>;
  /** Why the consumer crashed, if it did. */
  failure: () => unknown;
}

/**
 * Takes partitions off `remaining` as their batches reach `ends` (exclusive). On a brand-new broker the first
 * join can meet a group coordinator still loading (COORDINATOR_LOAD_IN_PROGRESS): kafkajs restarts the
 * consumer, harmless while nothing was handed over (`handedOver() === 0`). After that a restart would read from
 * the beginning again (no offsets are committed) and hand records over twice, so it ends the read instead.
 */
export function watchToEnd(
  consumer: Consumer,
  topic: string,
  ends: ReadonlyMap<number, number>,
  remaining: Set<number>,
  handedOver: () => number,
  logger: Logger,
): ToEndWatch {
  let failure: unknown;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  if (remaining.size === 0) finish();
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const end = ends.get(payload.partition);
    if (payload.topic === topic && end !== undefined && Number(payload.lastOffset) >= end - 1) {
      remaining.delete(payload.partition);
      if (remaining.size === 0) finish();
    }
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart && handedOver() === 0) return logger.info({ err: payload.error, topic }, 'reader restarting before its first batch');
    failure = payload.error;
    finish();
  });
  return { finished, failure: () => failure };
}

/** Rejects after `timeoutMs` with what `message()` says then; `clear` stops the timer. */
export function deadlineOf(timeoutMs: number, message: () => string): { expired: Promise<never>; clear: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), timeoutMs);
  });
  return { expired, clear: () => clearTimeout(timer) };
}
