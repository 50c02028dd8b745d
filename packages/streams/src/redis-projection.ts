import type { Logger } from '@consult/config';
import { CheckpointedConsumer, type KafkaClient, type ConsumedRecord } from '@consult/kafka';
import { CoalescingMulti, type ChainableCommander, type RedisClient, type RedisOffsetStore } from '@consult/redis';
import { isPoison, type Quarantine } from './quarantine.js';

export interface Decoded<T> {
  message: ConsumedRecord;
  value: T;
}

export interface RedisProjectionOptions<T> {
  kafka: KafkaClient;
  redis: RedisClient;
  logger: Logger;
  groupId: string;
  topics: readonly string[];
  offsets: RedisOffsetStore;
  quarantine: Quarantine;
  /** Decodes one record; a `ContractViolation` sends it to quarantine, any other error retries the batch. */
  decode: (topic: string, message: ConsumedRecord) => T;
  /**
   * Appends the effects of a partition's decoded records, in order, to `commands`. It may first read keys that
   * only this consumer writes (its own partitions' state). Every key must carry the hash tag `offsets` gives the
   * partition (`OffsetLayout.tagOf`): effects and offset are one script, which a cluster runs in one slot.
   */
  project: (commands: ChainableCommander, topic: string, partition: number, records: Decoded<T>[]) => void | Promise<void>;
  /** After a batch's effects are stored (e.g. to wake a ticker). */
  onApplied?: (topic: string, partition: number, records: Decoded<T>[]) => void;
  partitionsConsumedConcurrently?: number;
  maxWaitTimeInMs?: number;
  resyncIntervalMs?: number;
}

/**
 * A Redis read model fed from Kafka, exactly once: each batch's effects and its offset are written in one
 * atomic step that only applies at the offset the consumer resumed from (see `RedisOffsetStore.applyAt`), so
 * a retried write never doubles a batch and a flushed key space is rebuilt from the beginning by itself.
 * Records that do not decode go to quarantine and consumption goes on.
 */
export class RedisProjection<T> {
  private readonly consumer: CheckpointedConsumer;
  private applied = 0;

  constructor(private readonly options: RedisProjectionOptions<T>) {
    this.consumer = new CheckpointedConsumer({
      kafka: options.kafka,
      logger: options.logger,
      groupId: options.groupId,
      topics: options.topics,
      loadOffsets: () => options.offsets.nextOffsets(options.redis),
      apply: (topic, partition, messages, expectedNext, isStale) => this.apply(topic, partition, messages, expectedNext, isStale),
      ...(options.partitionsConsumedConcurrently !== undefined ? { partitionsConsumedConcurrently: options.partitionsConsumedConcurrently } : {}),
      ...(options.maxWaitTimeInMs !== undefined ? { maxWaitTimeInMs: options.maxWaitTimeInMs } : {}),
      ...(options.resyncIntervalMs !== undefined ? { resyncIntervalMs: options.resyncIntervalMs } : {}),
    });
  }

  /** Resolves once partitions were first assigned and positioned on the stored offsets. */
  get assigned(): Promise<void> {
    return this.consumer.assigned;
  }

  /** Records applied since start. */
  get recordsApplied(): number {
    return this.applied;
  }

  async start(): Promise<void> {
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
  }

  /** Compares stored offsets with the positions now (the consumer also does so periodically). */
  resyncWithStore(): Promise<number> {
    return this.consumer.resyncWithStore();
  }

  private async apply(
    topic: string,
    partition: number,
    messages: ConsumedRecord[],
    expectedNext: bigint,
    isStale: () => boolean,
  ): Promise<bigint | null> {
    const { options } = this;
    const records: Decoded<T>[] = [];
    const poison: { message: ConsumedRecord; error: unknown }[] = [];
    for (const message of messages) {
      try {
        records.push({ message, value: options.decode(topic, message) });
      } catch (error) {
        if (!isPoison(error)) throw error;
        poison.push({ message, error });
      }
    }
    await options.quarantine.put(topic, partition, poison);
    const commands = new CoalescingMulti();
    if (records.length > 0) await options.project(commands.commander, topic, partition, records);
    if (isStale()) return expectedNext;
    const moved = await options.offsets.applyAt(
      options.redis,
      topic,
      partition,
      expectedNext,
      messages[messages.length - 1]!.offset,
      commands.commands(),
    );
    if (moved === null) {
      this.applied += records.length;
      options.onApplied?.(topic, partition, records);
    }
    return moved;
  }
}
