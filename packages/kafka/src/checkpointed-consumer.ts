import { kafkajsOf } from './kafkajs-client.js';
import type { Consumer } from 'kafkajs';
import type { ConsumedRecord } from './records.js';
import type { KafkaClient } from './client.js';
import type { Logger } from 'pino';
import { consumerSettings, ReplaceableConsumer } from './replaceable-consumer.js';
import { RetriableError, heartbeatUntil } from './retriable.js';

/** `${topic}:${partition}`, the field under which a consumer's progress is stored. */
export function offsetField(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

export interface CheckpointedConsumerOptions {
  kafka: KafkaClient;
  logger: Logger;
  groupId: string;
  topics: readonly string[];
  /**
   * Next offset to apply per `topic:partition`, read from the store that also holds the effects (missing
   * means the beginning: a flushed store rebuilds from the start of the topics).
   */
  loadOffsets: () => Promise<Map<string, bigint>>;
  /**
   * Applies messages of one partition and stores the offset of the last one in the same atomic write as the
   * effects, but only if the store still says the partition's next offset is `expectedNext`. Returns null when
   * applied, or the next offset the store holds instead (0 after a flush), where the consumer resumes.
   * `isStale` says a rebalance took the partition away meanwhile.
   */
  apply: (
    topic: string,
    partition: number,
    messages: ConsumedRecord[],
    expectedNext: bigint,
    isStale: () => boolean,
  ) => Promise<bigint | null>;
  partitionsConsumedConcurrently?: number;
  /** How long the broker may hold a fetch for more data (lower answers sooner). */
  maxWaitTimeInMs?: number;
  /**
   * How often the stored offsets are compared with the consumer's positions, so a store flushed under a
   * running consumer is rebuilt even for partitions that receive nothing new.
   */
  resyncIntervalMs?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Silence after which the kafkajs consumer counts as hung and is replaced (ConsumerWatchdog). */
  hungAfterMs?: number;
}

/**
 * A consumer whose progress lives beside its effects rather than in Kafka: on assignment it seeks to the
 * offsets found in the store (the beginning after a flush), and each fetched batch is handed to `apply`, which
 * writes effects and offset atomically and only at the expected position. A flush of the store under a
 * running consumer is noticed by the next write (its position check fails) or by the periodic resync, and the
 * consumer rebuilds from what the store holds, by itself. Kafka's committed offsets are only a hint.
 */
export class CheckpointedConsumer {
  private readonly consumer: ReplaceableConsumer;
  /** Next offset to apply per `topic:partition`, as stored. */
  private readonly next = new Map<string, bigint>();
  /** Partitions whose batch is being applied right now: the resync leaves them to the write's own check. */
  private readonly applying = new Set<string>();
  private ready: Promise<void> = Promise.resolve();
  private assignment: Record<string, number[]> = {};
  /** Counts assignments: the positioning of an older one, still waiting for the store, must not win. */
  private generation = 0;
  private resyncTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private markAssigned!: () => void;
  /** Resolves once partitions were first assigned and the consumer positioned on the stored offsets. */
  readonly assigned: Promise<void> = new Promise((resolve) => (this.markAssigned = resolve));

  constructor(private readonly options: CheckpointedConsumerOptions) {
    // A replaced consumer's late batches, if it ever wakes up, are ignored (they check they belong to the
    // current consumer) and its writes fail the offset check.
    this.consumer = new ReplaceableConsumer({
      logger: options.logger,
      ...(options.hungAfterMs ? { hungAfterMs: options.hungAfterMs } : {}),
      create: () =>
        kafkajsOf(options.kafka).consumer(
          consumerSettings(options.groupId, {
            maxWaitTimeInMs: options.maxWaitTimeInMs ?? 100,
            sessionTimeout: options.sessionTimeoutMs ?? 6_000,
            heartbeatInterval: options.heartbeatIntervalMs ?? 1_000,
          }),
        ),
      run: (consumer, current) => this.run(consumer, current),
    });
  }

  async start(): Promise<void> {
    const { options } = this;
    await this.consumer.start();
    const interval = options.resyncIntervalMs ?? 1_000;
    this.resyncTimer = setInterval(() => {
      this.resyncWithStore().catch((error: unknown) => options.logger.warn({ err: error }, 'comparing stored offsets failed'));
    }, interval);
    this.resyncTimer.unref();
  }

  /** Wires, connects and runs one kafkajs consumer (the first, or the replacement of a hung one). */
  private async run(consumer: Consumer, current: () => boolean): Promise<void> {
    const { options } = this;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if (!current()) return;
      this.ready = this.seekToStoredOffsets(payload.memberAssignment, ++this.generation);
      void this.ready.then(() => this.markAssigned());
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...options.topics], fromBeginning: true });
    await consumer.run({
      // Progress lives in the store; Kafka's committed offset is only a hint for lag tools.
      autoCommit: true,
      autoCommitInterval: 5_000,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 16,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isStale }) => {
        await heartbeatUntil(this.ready, heartbeat);
        if (isStale() || this.stopped || !current()) return;
        const field = offsetField(batch.topic, batch.partition);
        const expected = this.next.get(field) ?? 0n;
        // The fetch started past what the store holds (Kafka's committed offset is ahead, e.g. after a flush,
        // and the seek has not taken effect yet): go back. Offsets missing inside a batch are transaction
        // markers, not gaps, so only the fetch position is compared.
        const fetchedOffset = BigInt((batch as unknown as { fetchedOffset: string }).fetchedOffset);
        if (fetchedOffset > expected) {
          consumer.seek({ topic: batch.topic, partition: batch.partition, offset: expected.toString() });
          return;
        }
        const messages = batch.messages.filter((m) => BigInt(m.offset) >= expected);
        if (messages.length > 0) {
          this.applying.add(field);
          let moved: bigint | null;
          try {
            // Heartbeat while applying: a rebuild's first batches are large, and on a busy machine one can outlast
            // the session timeout, which would evict the member and start the batch over, again and again. Only
            // for a while: a write that never returns must let the member go (and the watchdog act).
            const applied = options.apply(batch.topic, batch.partition, messages, expected, isStale);
            await heartbeatUntil(applied, heartbeat, 1_000, 30_000);
            moved = await applied;
          } catch (error) {
            // Whatever failed (Redis down, a timeout), the batch is retried from the stored position: kafkajs
            // stops a consumer for good on errors it does not know to be retriable.
            throw new RetriableError(`applying ${field} failed`, error);
          } finally {
            this.applying.delete(field);
          }
          if (moved !== null) {
            options.logger.warn({ field, expected: expected.toString(), stored: moved.toString() }, 'stored offset moved (flushed?): re-positioning');
            this.next.set(field, moved);
            consumer.seek({ topic: batch.topic, partition: batch.partition, offset: moved.toString() });
            return;
          }
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
        if (this.applying.has(field)) continue;
        const offset = stored.get(field) ?? 0n;
        // Only a store that fell behind is a lost one; ahead means a write landed after this read began.
        if (offset >= (this.next.get(field) ?? 0n)) continue;
        this.next.set(field, offset);
        this.consumer.current.seek({ topic, partition, offset: offset.toString() });
        moved++;
      }
    }
    if (moved > 0) this.options.logger.warn({ partitions: moved }, 'stored offsets moved (flushed?): re-positioned');
    return moved;
  }

  /** Positions every assigned partition on its stored offset; retried until the store answers. */
  private async seekToStoredOffsets(assignment: Record<string, number[]>, generation: number): Promise<void> {
    this.assignment = assignment;
    for (let attempt = 1; ; attempt++) {
      try {
        const stored = await this.options.loadOffsets();
        if (generation !== this.generation) return;
        this.next.clear();
        for (const [topic, partitions] of Object.entries(assignment)) {
          for (const partition of partitions) {
            const field = offsetField(topic, partition);
            const offset = stored.get(field) ?? 0n;
            this.next.set(field, offset);
            this.consumer.current.seek({ topic, partition, offset: offset.toString() });
          }
        }
        this.options.logger.info(
          { assignment, resumeFrom: Object.fromEntries([...this.next].map(([k, v]) => [k, v.toString()])) },
          'resuming from stored offsets',
        );
        return;
      } catch (error) {
        if (this.stopped || generation !== this.generation) return;
        const delay = Math.min(5_000, 100 * 2 ** attempt);
        this.options.logger.warn({ err: error, attempt, delay }, 'reading stored offsets failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    await this.consumer.stop();
  }
}
