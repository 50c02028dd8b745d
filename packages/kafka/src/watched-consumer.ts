import { kafkajsOf } from './kafkajs-client.js';
import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import type { ConsumedRecord } from './records.js';
import type { KafkaClient } from './client.js';
import type { Logger } from 'pino';
import { consumerSettings, ReplaceableConsumer } from './replaceable-consumer.js';

/** One fetched batch of one partition, as a WatchedConsumer hands it over. */
export interface ConsumedBatch {
  partition: number;
  messages: ConsumedRecord[];
  heartbeat: () => Promise<void>;
  /** True once a rebalance (or the consumer's replacement) took the partition away: stop applying. */
  isStale: () => boolean;
}

export interface WatchedConsumerOptions {
  kafka: KafkaClient;
  logger: Logger;
  topic: string;
  /** A group of its own per process (`<prefix>-<uuid>`) when `ownGroupPrefix` is given instead. */
  groupId?: string;
  ownGroupPrefix?: string;
  /** Commit consumed offsets (kafkajs auto-commit); otherwise each new consumer starts from the beginning. */
  autoCommit: boolean;
  maxWaitTimeInMs?: number;
  /** Called when partitions are assigned, before any of their batches is handed over (batches wait for it). */
  onAssigned?: (partitions: number[]) => Promise<void>;
  onBatch: (batch: ConsumedBatch) => Promise<void> | void;
  hungAfterMs?: number;
}

/**
 * A plain consumer of one topic for services that keep no offsets of their own, under the ConsumerWatchdog:
 * kafkajs can leave a consumer hung for good after a broker restart, and this one is then replaced. Services
 * use it instead of a kafkajs consumer of their own.
 */
export class WatchedConsumer {
  private readonly consumer: ReplaceableConsumer;
  private ready: Promise<void> = Promise.resolve();
  /** `onAssigned` runs for one assignment at a time: a newer one's preparation starts once an older one's ended. */
  private assigning: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private markAssigned!: () => void;
  /** Resolves once partitions were first assigned and `onAssigned` finished. */
  readonly assigned: Promise<void> = new Promise((resolve) => (this.markAssigned = resolve));

  constructor(private readonly options: WatchedConsumerOptions) {
    this.consumer = new ReplaceableConsumer({
      logger: options.logger,
      ...(options.hungAfterMs ? { hungAfterMs: options.hungAfterMs } : {}),
      create: () =>
        kafkajsOf(options.kafka).consumer(
          consumerSettings(options.groupId ?? `${options.ownGroupPrefix ?? options.topic}-${randomUUID()}`, {
            ...(options.maxWaitTimeInMs ? { maxWaitTimeInMs: options.maxWaitTimeInMs } : {}),
          }),
        ),
      run: (consumer, current) => this.run(consumer, current),
    });
  }

  async start(): Promise<void> {
    await this.consumer.start();
  }

  private async run(consumer: Consumer, current: () => boolean): Promise<void> {
    const { options } = this;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if (!current()) return;
      const partitions = [...(payload.memberAssignment[options.topic] ?? [])];
      const onAssigned = options.onAssigned;
      // Run after the previous one, so a slow preparation of an older assignment cannot finish last and leave
      // behind state for partitions the group has since given elsewhere.
      const ready = onAssigned ? this.assigning.then(() => onAssigned(partitions)) : Promise.resolve();
      this.assigning = ready.catch(() => undefined);
      this.ready = ready;
      ready.then(
        () => this.markAssigned(),
        (error: unknown) => options.logger.error({ err: error, topic: options.topic }, 'preparing assigned partitions failed'),
      );
    });
    await consumer.connect();
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: options.autoCommit,
      eachBatch: async ({ batch, heartbeat, isStale }) => {
        await this.ready;
        if (isStale() || this.stopped || !current()) return;
        await options.onBatch({ partition: batch.partition, messages: batch.messages, heartbeat, isStale: () => isStale() || !current() });
      },
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.stop();
  }
}
