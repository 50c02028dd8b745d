import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';

/** `${topic}:${partition}`, the field under which a consumer's progress is stored. */
export function offsetField(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

export interface CheckpointedConsumerOptions {
  kafka: Kafka;
  logger: Logger;
  groupId: string;
  topics: readonly string[];
  /**
   * Next offset to apply per `topic:partition`, read from the store that also holds the effects (missing
   * means the beginning: a flushed store rebuilds from the start of the topics).
   */
  loadOffsets: () => Promise<Map<string, bigint>>;
  /**
   * Applies messages of one partition and stores the offset of the last one in the same atomic write as
   * the effects. Called in offset order; `isStale` says a rebalance took the partition away meanwhile.
   */
  apply: (topic: string, partition: number, messages: KafkaMessage[], isStale: () => boolean) => Promise<void>;
  partitionsConsumedConcurrently?: number;
}

/**
 * A consumer whose progress lives beside its effects rather than in Kafka: on assignment it seeks to the
 * offsets found in the store (the beginning after a flush), and each fetched batch is handed to `apply`,
 * which writes effects and offset atomically. Kafka's committed offsets are only a hint for the fetcher.
 * (The same pattern as the projector's; the projector can move onto this class.)
 */
export class CheckpointedConsumer {
  private readonly consumer: Consumer;
  /** Next offset to apply per `topic:partition`, as stored. */
  private readonly next = new Map<string, bigint>();
  private ready: Promise<void> = Promise.resolve();
  private assignment: Record<string, number[]> = {};
  private markAssigned!: () => void;
  /** Resolves once partitions were first assigned and the consumer positioned on the stored offsets. */
  readonly assigned: Promise<void> = new Promise((resolve) => (this.markAssigned = resolve));

  constructor(private readonly options: CheckpointedConsumerOptions) {
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
      maxBytesPerPartition: 4 * 1024 * 1024,
    });
  }

  async start(): Promise<void> {
    const { consumer, options } = this;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.ready = this.seekToStoredOffsets(payload.memberAssignment);
      this.ready.then(() => this.markAssigned(), () => undefined);
      this.ready.catch((error: unknown) => options.logger.error({ err: error }, 'seeking to stored offsets failed'));
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...options.topics], fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 3,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isStale }) => {
        await this.ready;
        if (isStale()) return;
        const field = offsetField(batch.topic, batch.partition);
        // The store is the truth: if it was flushed (or restored) under a running consumer, start over from
        // what it holds, so the derived state is rebuilt without a restart.
        const stored = (await options.loadOffsets()).get(field) ?? 0n;
        if (stored !== (this.next.get(field) ?? 0n)) {
          options.logger.warn({ field, stored: stored.toString(), expected: this.next.get(field)?.toString() }, 'stored offset moved: re-positioning');
          this.next.set(field, stored);
        }
        const expected = stored;
        // The fetch started past what the store holds (Kafka's committed offset is ahead, e.g. after a flush,
        // and the seek has not taken effect yet): go back. Offsets missing inside a batch are transaction
        // markers, not gaps, so only the fetch position is compared.
        const fetchedOffset = BigInt((batch as unknown as { fetchedOffset: string }).fetchedOffset);
        if (fetchedOffset > expected) {
          this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: expected.toString() });
          return;
        }
        const messages = batch.messages.filter((m) => BigInt(m.offset) >= expected);
        if (messages.length > 0) {
          await options.apply(batch.topic, batch.partition, messages, isStale);
          this.next.set(field, BigInt(messages[messages.length - 1]!.offset) + 1n);
        }
        const last = batch.messages[batch.messages.length - 1];
        if (last) resolveOffset(last.offset);
        await heartbeat();
      },
    });
  }

  /**
   * Compares the store with the consumer's position and seeks the partitions where they differ: after a
   * flush under a running consumer, partitions without new messages are rebuilt too. Returns how many moved.
   */
  async resyncWithStore(): Promise<number> {
    const stored = await this.options.loadOffsets();
    let moved = 0;
    for (const [topic, partitions] of Object.entries(this.assignment)) {
      for (const partition of partitions) {
        const field = offsetField(topic, partition);
        const offset = stored.get(field) ?? 0n;
        if (offset === (this.next.get(field) ?? 0n)) continue;
        this.next.set(field, offset);
        this.consumer.seek({ topic, partition, offset: offset.toString() });
        moved++;
      }
    }
    if (moved > 0) this.options.logger.warn({ partitions: moved }, 'stored offsets moved (flushed?): re-positioned');
    return moved;
  }

  private async seekToStoredOffsets(assignment: Record<string, number[]>): Promise<void> {
    this.assignment = assignment;
    const stored = await this.options.loadOffsets();
    this.next.clear();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const field = offsetField(topic, partition);
        const offset = stored.get(field) ?? 0n;
        this.next.set(field, offset);
        this.consumer.seek({ topic, partition, offset: offset.toString() });
      }
    }
    this.options.logger.info(
      { assignment, resumeFrom: Object.fromEntries([...this.next].map(([k, v]) => [k, v.toString()])) },
      'resuming from stored offsets',
    );
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
