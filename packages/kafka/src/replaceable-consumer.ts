import type { Consumer, ConsumerConfig } from 'kafkajs';
import type { Logger } from 'pino';
import { abandon, ConsumerWatchdog } from './consumer-watchdog.js';

/**
 * What every consumer of the project shares: committed reads only, no topic auto-creation, 4 MiB per
 * partition and fetch, and a 6 s session (a dead member's partitions move on after that long; loads and long
 * batches heartbeat meanwhile).
 */
export function consumerSettings(groupId: string, overrides: Partial<ConsumerConfig> = {}): ConsumerConfig {
  return {
    groupId,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 4 * 1024 * 1024,
    sessionTimeout: 6_000,
    heartbeatInterval: 1_000,
    ...overrides,
  };
}

export interface ReplaceableConsumerOptions {
  logger: Logger;
  /** Makes a fresh kafkajs consumer (the first, and each replacement of a hung one). */
  create: () => Consumer;
  /**
   * Wires, connects and runs one consumer. `current()` turns false once it was replaced: its late events
   * and batches, if it ever wakes up, must then be ignored.
   */
  run: (consumer: Consumer, current: () => boolean) => Promise<void>;
  /** What the owner forgets before a replacement takes over (e.g. producers, loaded state). */
  beforeReplace?: () => Promise<void>;
  hungAfterMs?: number;
}

/**
 * A kafkajs consumer under the ConsumerWatchdog, replaced by a fresh one when it shows no sign of life (the
 * group then sees a new member and the hung one's session lapses). Every consumer of the project is one.
 */
export class ReplaceableConsumer {
  private consumer: Consumer;
  private readonly watchdog: ConsumerWatchdog;

  constructor(private readonly options: ReplaceableConsumerOptions) {
    this.consumer = options.create();
    this.watchdog = new ConsumerWatchdog({
      logger: options.logger,
      ...(options.hungAfterMs ? { silenceMs: options.hungAfterMs } : {}),
      restart: async () => {
        const hung = this.consumer;
        this.consumer = options.create();
        abandon(hung, options.logger);
        await options.beforeReplace?.();
        await this.runOne(this.consumer);
      },
    });
  }

  /** The consumer running now. */
  get current(): Consumer {
    return this.consumer;
  }

  /** A sign of life from the owner itself (e.g. a long load that heartbeats). */
  alive(): void {
    this.watchdog.alive();
  }

  async start(): Promise<void> {
    await this.runOne(this.consumer);
    this.watchdog.start();
  }

  private async runOne(consumer: Consumer): Promise<void> {
    this.watchdog.watch(consumer);
    await this.options.run(consumer, () => consumer === this.consumer);
  }

  async stop(): Promise<void> {
    this.watchdog.stop();
    await this.consumer.disconnect();
  }
}
