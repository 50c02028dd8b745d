import type { Consumer, Producer } from 'kafkajs';
import type { ConsumedRecord, TopicRecords } from './records.js';
import type { KafkaClient } from './client.js';
import type { Logger } from 'pino';
import { kafkajsOf, PRODUCER_DEFAULTS } from './kafkajs-client.js';
import { consumerSettings, ReplaceableConsumer } from './replaceable-consumer.js';
import { heartbeatUntil, RetriableError } from './retriable.js';
import { splitBySize } from './sizing.js';

export interface TransactionalProcessorOptions {
  kafka: KafkaClient;
  logger: Logger;
  groupId: string;
  inputTopic: string;
  /** Producers are per input partition (`<prefix>-p<n>`) so a new owner of a partition fences the old one. */
  transactionalIdPrefix: string;
  partitionsConsumedConcurrently?: number;
  maxMessagesPerTransaction?: number;
  /**
   * Brings the state `process` keeps for these partitions up to date with everything committed, keeping
   * nothing uncommitted (see ChainedStreams.load). Runs after the partitions'
   * previous owner is fenced and again after an aborted transaction; nothing of a partition is processed
   * until its load has succeeded.
   */
  load?: (partitions: number[]) => Promise<void>;
  /** Turns input messages into output messages; may keep state, which is reloaded after an abort. */
  process: (partition: number, messages: ConsumedRecord[]) => TopicRecords[] | Promise<TopicRecords[]>;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Silence after which the kafkajs consumer counts as hung and is replaced (ConsumerWatchdog). */
  hungAfterMs?: number;
}

/**
 * A chunk could not be committed; its transaction was aborted and any remembered state discarded. It is
 * retriable by construction: kafkajs then re-fetches from the last committed offset instead of stopping the
 * consumer for good (which it does for non-retriable errors). The original error is kept in `reason`, not in
 * `cause`, because kafkajs judges retriability by the innermost cause.
 */
export class ChunkAbortedError extends Error {
  readonly code = 'CHUNK_ABORTED';
  readonly retriable = true;
  constructor(
    readonly partition: number,
    readonly reason: unknown,
  ) {
    super(`partition ${partition}: transaction aborted (${reason instanceof Error ? reason.message : 'unknown error'})`);
    this.name = 'ChunkAbortedError';
  }
}

/**
 * The coordinator answers CONCURRENT_TRANSACTIONS while it still writes the markers of this transactional id's
 * previous transaction: "retry shortly", not a failure. kafkajs retries produce requests on it but not
 * AddOffsetsToTxn or EndTxn; aborting there would throw the chunk's decisions away, reload the partition's
 * state and restart the consumer, seconds of stall for a few milliseconds of waiting.
 */
async function untilNotConcurrent<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const concurrent = (error as { type?: unknown }).type === 'CONCURRENT_TRANSACTIONS';
      if (!concurrent || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100, 5 * 2 ** attempt)));
    }
  }
}

/**
 * How long a chunk's reload or transaction keeps the group membership alive: past a broker restart and the
 * transactional retries (about 20 s), but not for ever, so that a truly hung chunk still falls silent and
 * is replaced by the ConsumerWatchdog.
 */
const HEARTBEAT_THROUGH_MS = 45_000;

/** Retries of transactional requests: 20, 40, 80 … ms, at most 2 s apart, about 20 s in all. */
export const TRANSACTIONAL_RETRY = { initialRetryTime: 20, retries: 12, maxRetryTime: 2_000 } as const;

/**
 * Consume-transform-produce with Kafka transactions: the outputs of a chunk of input messages and the input
 * offsets are committed atomically, so a command processed before a crash is never applied twice and none
 * is lost. Heartbeats are sent between chunks, since kafkajs only heartbeats between batches otherwise.
 */
export class TransactionalProcessor {
  private readonly consumer: ReplaceableConsumer;
  private readonly producers = new Map<number, Producer>();
  /** Partitions whose state `load` has fully rebuilt since they were assigned or last aborted. */
  private readonly loaded = new Set<number>();
  private ready: Promise<void> = Promise.resolve();
  /**
   * Counts assignments. A take-over of an older one is superseded: it must neither fence nor mark loaded
   * partitions the group has since given elsewhere (a stale load marking them would let this writer decide
   * on them later against state from before their other owner's decisions).
   */
  private generation = 0;
  /** Loads run one at a time: two reads of one partition at once would apply its events twice. */
  private loading: Promise<unknown> = Promise.resolve();
  /**
   * Partitions waiting for a load, with the assignment they were asked for under. The next load takes all of
   * the current assignment's at once: after a broker restart every partition's transaction aborts, and one read
   * of them all costs about what a read of one does, where reading them one after another cost seconds each.
   */
  private readonly awaitingLoad = new Map<number, number>();
  private stopped = false;
  private markAssigned!: () => void;
  /** Resolves once partitions were first assigned and their state loaded. */
  readonly assigned: Promise<void> = new Promise((resolve) => (this.markAssigned = resolve));

  constructor(private readonly options: TransactionalProcessorOptions) {
    this.consumer = new ReplaceableConsumer({
      logger: options.logger,
      ...(options.hungAfterMs ? { hungAfterMs: options.hungAfterMs } : {}),
      create: () =>
        kafkajsOf(options.kafka).consumer(
          consumerSettings(options.groupId, {
            // Under load the broker gathers up to 64 KiB or 5 ms before answering: fewer, larger transactions
            // for at most 5 ms more latency when traffic is light.
            minBytes: 64 * 1024,
            maxWaitTimeInMs: 5,
            sessionTimeout: options.sessionTimeoutMs ?? 6_000,
            heartbeatInterval: options.heartbeatIntervalMs ?? 1_000,
          }),
        ),
      // A full take-over by a fresh consumer: every partition is fenced and loaded again, so whatever the hung
      // consumer held (an open transaction, remembered state) counts for nothing.
      beforeReplace: async () => {
        for (const partition of [...this.producers.keys()]) await this.dropProducer(partition);
        this.loaded.clear();
      },
      run: (consumer, current) => this.run(consumer, current),
    });
  }

  async start(): Promise<void> {
    await this.consumer.start();
  }

  /** Wires, connects and runs one kafkajs consumer (the first, or the replacement of a hung one). */
  private async run(consumer: Consumer, current: () => boolean): Promise<void> {
    const { options } = this;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if (!current()) return;
      const partitions = payload.memberAssignment[options.inputTopic] ?? [];
      options.logger.info({ partitions }, 'partitions assigned');
      const generation = ++this.generation;
      const load = this.retrying(() => this.takeOver([...partitions], generation), generation);
      this.ready = load;
      void load.then(() => this.markAssigned());
    });
    await consumer.connect();
    await consumer.subscribe({ topic: options.inputTopic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Every partition's transaction runs at once: a cycle costs the slowest commit, not their sum.
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 16,
      eachBatch: async ({ batch, heartbeat, resolveOffset, isRunning, isStale }) => {
        await heartbeatUntil(this.ready, heartbeat);
        const max = options.maxMessagesPerTransaction ?? 2_000;
        for (let start = 0; start < batch.messages.length; start += max) {
          if (!isRunning() || isStale() || this.stopped || !current()) return;
          const chunk = batch.messages.slice(start, start + max);
          const last = chunk[chunk.length - 1]!;
          await this.commitChunk(batch.partition, chunk, last.offset, heartbeat);
          resolveOffset(last.offset);
          await heartbeat();
        }
      },
    });
  }

  /**
   * Takes over newly assigned partitions: first fences their previous owner (initialising each partition's
   * transactional producer bumps its epoch and ends whatever transaction the old owner left open, so a writer
   * that was evicted while stalled can no longer commit), and only then loads their state, which therefore
   * includes everything the old owner committed.
   */
  private async takeOver(partitions: number[], generation: number): Promise<void> {
    if (generation !== this.generation) return;
    for (const partition of [...this.producers.keys()])
      if (!partitions.includes(partition)) await this.dropProducer(partition);
    for (const partition of [...this.loaded]) if (!partitions.includes(partition)) this.loaded.delete(partition);
    for (const [partition, asked] of this.awaitingLoad) if (asked !== generation) this.awaitingLoad.delete(partition);
    // Partitions kept through the rebalance still have their producer (and may be mid-transaction): nobody
    // else owned them meanwhile, so only newly assigned ones are fenced.
    if (generation !== this.generation) return;
    await Promise.all(partitions.filter((p) => !this.producers.has(p)).map((partition) => this.fence(partition)));
    await this.ensureLoaded(partitions, generation);
  }

  /** Inits the partition's transactional id (an empty transaction: InitProducerId, no EndTxn). */
  private async fence(partition: number): Promise<void> {
    const producer = await this.producerFor(partition);
    const transaction = await producer.transaction();
    await transaction.abort();
  }

  /**
   * Loads the partitions not loaded yet, after any load under way; throws (and leaves them unloaded) if the load
   * fails. Marks them loaded only if no assignment came since `generation` (a newer take-over loads what it owns).
   */
  private async ensureLoaded(partitions: number[], generation: number): Promise<void> {
    if (partitions.every((p) => this.loaded.has(p))) return;
    for (const p of partitions) if (!this.loaded.has(p)) this.awaitingLoad.set(p, generation);
    const load = this.loading.then(async () => {
      if (generation !== this.generation) return;
      // Its own partitions, and every other one awaiting a load under this same assignment (a partition asked
      // for under an older one may no longer be ours: it is never loaded, nor marked, on that request).
      const missing = new Set(partitions.filter((p) => !this.loaded.has(p)));
      for (const [p, asked] of this.awaitingLoad) if (asked === generation && !this.loaded.has(p)) missing.add(p);
      for (const p of missing) this.awaitingLoad.delete(p);
      if (missing.size === 0) return;
      await this.options.load?.([...missing].sort((x, y) => x - y));
      if (generation === this.generation) for (const p of missing) this.loaded.add(p);
    });
    this.loading = load.catch(() => undefined);
    await load;
    if (!partitions.every((p) => this.loaded.has(p))) throw new Error('superseded by a newer assignment before its state was loaded');
  }

  /**
   * Loading state right after topics are created can meet "not the leader" and similar passing errors; batches
   * wait for the load, so it is retried with backoff rather than failing the consumer.
   */
  private async retrying(load: () => Promise<void>, generation: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await load();
      } catch (error) {
        if (this.stopped) throw error;
        if (generation !== this.generation) return;
        const delay = Math.min(5_000, 200 * 2 ** attempt);
        this.options.logger.warn({ err: error, attempt, delay }, 'taking over assigned partitions failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async dropProducer(partition: number): Promise<void> {
    const producer = this.producers.get(partition);
    this.producers.delete(partition);
    await producer?.disconnect().catch(() => undefined);
  }

  private async producerFor(partition: number): Promise<Producer> {
    let producer = this.producers.get(partition);
    if (!producer) {
      producer = kafkajsOf(this.options.kafka).producer({
        ...PRODUCER_DEFAULTS,
        transactionalId: `${this.options.transactionalIdPrefix}-p${partition}`,
        idempotent: true,
        maxInFlightRequests: 1,
        // CONCURRENT_TRANSACTIONS (the previous transaction's markers, or a dead owner's abort, still being
        // written) clears within milliseconds; kafkajs' default first retry after 200 ms stalls the partition
        // for that long on every take-over and often under load. Start small, back off to the same bound.
        retry: TRANSACTIONAL_RETRY,
      });
      await producer.connect();
      this.producers.set(partition, producer);
    }
    return producer;
  }

  private async commitChunk(partition: number, chunk: ConsumedRecord[], lastOffset: string, heartbeat: () => Promise<void>): Promise<void> {
    const { options } = this;
    // kafkajs heartbeats only between batches: a reload, or a transaction retrying until a restarted broker
    // serves again, would otherwise outlast the session, and the group would take every partition away for a
    // full take-over just as the broker is back. Bounded, so work that truly hangs still looks hung.
    const alive = (work: Promise<void>): Promise<void> => heartbeatUntil(work, heartbeat, 1_000, HEARTBEAT_THROUGH_MS);
    try {
      // Never decide against partial state: after an abort (or a failed load) the partition is loaded again
      // first, and if that fails the chunk is retried later rather than decided. An abort that could not reach
      // the broker leaves the transaction open there, and a commit already sent may still land: fencing first
      // ends it for good (InitProducerId returns once its markers are written), so the reload reads a history
      // nothing can add to behind its back. A read_committed read would otherwise stop short at it.
      await alive(
        (async () => {
          if (!this.loaded.has(partition) && !this.producers.has(partition)) await this.fence(partition);
          await this.ensureLoaded([partition], this.generation);
        })(),
      );
    } catch (error) {
      throw new RetriableError(`partition ${partition}: loading state failed`, error);
    }
    const producer = await this.producerFor(partition);
    let outputs: TopicRecords[];
    try {
      outputs = await options.process(partition, chunk);
    } catch (error) {
      this.loaded.delete(partition);
      throw new ChunkAbortedError(partition, error);
    }
    const transaction = await producer.transaction();
    try {
      await alive(
        (async () => {
          // kafkajs mishandles a topic with no messages inside a transaction: send only non-empty ones, in
          // requests the broker accepts; all of them still commit or abort together. One topic per request:
          // a chunk's outputs to one topic all go to its stream partition, so each request reaches one
          // broker. kafkajs 2.2.4 retries a request that spanned several brokers by sending again to every
          // broker that had not answered yet, with sequence numbers already advanced for the one still in
          // flight: the broker takes the same records twice (seen when a broker of three was killed: events
          // and comments written twice inside committed transactions).
          for (const output of outputs)
            if (output.messages.length > 0)
              for (const topicMessages of splitBySize([output])) await transaction.sendBatch({ topicMessages, acks: -1 });
          await untilNotConcurrent(() =>
            transaction.sendOffsets({
              consumerGroupId: options.groupId,
              topics: [
                { topic: options.inputTopic, partitions: [{ partition, offset: (BigInt(lastOffset) + 1n).toString() }] },
              ],
            }),
          );
          await untilNotConcurrent(() => transaction.commit());
        })(),
      );
    } catch (error) {
      options.logger.error({ err: error, partition }, 'transaction failed: aborting');
      await transaction.abort().catch(() => undefined);
      // What `process` remembered is not in Kafka: the state is reloaded before the next decision. A producer
      // in an unknown state (or fenced by a new owner) is not reused; the next attempt starts a fresh one.
      this.loaded.delete(partition);
      await this.dropProducer(partition);
      throw new ChunkAbortedError(partition, error);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.stop();
    await Promise.all([...this.producers.values()].map((p) => p.disconnect().catch(() => undefined)));
    this.producers.clear();
  }
}
