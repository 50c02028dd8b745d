import type { Consumer } from 'kafkajs';
import type { Logger } from 'pino';

export interface ConsumerWatchdogOptions {
  logger: Logger;
  /** Silence (no fetch, batch, heartbeat or join) after which the consumer counts as hung. */
  silenceMs?: number;
  checkEveryMs?: number;
  /** Replaces the hung consumer; the watchdog waits for it and then starts counting again. */
  restart: (silentForMs: number) => Promise<void>;
}

/**
 * kafkajs 2.2.4 can hang a consumer for good without crashing it (tulios/kafkajs#659; seen here after a broker
 * was killed and restarted: the projector fetched nothing for minutes, logged nothing, and nothing restarted
 * it). A running consumer shows signs of life many times a second: fetches (they return after at most
 * `maxWaitTimeInMs` even when idle), batches, heartbeats. When none come for `silenceMs`, the watchdog has the
 * owner replace the consumer with a fresh one.
 */
export class ConsumerWatchdog {
  private lastSign = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private restarting = false;

  constructor(private readonly options: ConsumerWatchdogOptions) {}

  /** Counts this consumer's events as signs of life (call for each consumer the owner creates). */
  watch(consumer: Consumer): void {
    const { events } = consumer;
    for (const event of [events.FETCH_START, events.FETCH, events.START_BATCH_PROCESS, events.END_BATCH_PROCESS, events.HEARTBEAT, events.GROUP_JOIN, events.CONNECT])
      consumer.on(event, () => this.alive());
    this.alive();
  }

  /** A sign of life from the owner itself (e.g. a long load that heartbeats). */
  alive(): void {
    this.lastSign = Date.now();
  }

  start(): void {
    const silenceMs = this.options.silenceMs ?? 20_000;
    this.timer = setInterval(() => {
      const silent = Date.now() - this.lastSign;
      if (this.restarting || silent < silenceMs) return;
      this.restarting = true;
      this.options.logger.warn({ silentForMs: silent }, 'consumer showed no sign of life: replacing it');
      this.options
        .restart(silent)
        .catch((error: unknown) => this.options.logger.error({ err: error }, 'replacing a hung consumer failed; trying again later'))
        .finally(() => {
          this.restarting = false;
          this.alive();
        });
    }, this.options.checkEveryMs ?? 2_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Disconnects a consumer being replaced without waiting on it for ever: a hung one may never answer. */
export function abandon(consumer: Consumer, logger: Logger, waitMs = 10_000): void {
  let timer: NodeJS.Timeout | undefined;
  void Promise.race([consumer.disconnect(), new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))])
    .catch((error: unknown) => logger.debug({ err: error }, 'disconnecting a replaced consumer failed'))
    .finally(() => clearTimeout(timer));
}
