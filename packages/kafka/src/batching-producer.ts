import type { Producer } from 'kafkajs';
import type { ProducedRecord, TopicRecords } from './records.js';
import type { KafkaClient } from './client.js';
import type { Logger } from 'pino';
import { kafkajsOf, PRODUCER_DEFAULTS } from './kafkajs-client.js';
import { MAX_REQUEST_BYTES, messageBytes } from './sizing.js';

interface Pending {
  topic: string;
  messages: ProducedRecord[];
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface BatchingProducerOptions {
  /** Upper bound of messages in one produce request. */
  maxBatchMessages?: number;
  /** Extra time to wait for company before sending when idle; 0 sends at once and batches under load. */
  lingerMs?: number;
}

/**
 * kafkajs sends each `send()` as its own request and has no linger. This producer coalesces concurrent sends
 * into one `sendBatch` while the previous request is in flight, so batches grow with load by themselves.
 *
 * It is idempotent with acks=all and exactly one request in flight: kafkajs' idempotent producer has been
 * reported to lose messages with more concurrent in-flight requests than partitions (kafkajs#1005), and one
 * in-flight request keeps per-partition order. A resolved `send` means the broker has the messages durably.
 */
export class BatchingProducer {
  private readonly queue: Pending[] = [];
  private inFlight = false;
  private connected = false;
  private closed = false;
  private readonly maxBatchMessages: number;
  private readonly lingerMs: number;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: (() => void) | undefined;

  private producer: Producer;
  /** A replacement producer not connected yet: the next send connects it (and fails if it cannot). */
  private unconnected = false;

  constructor(
    private readonly kafka: KafkaClient,
    private readonly logger: Logger,
    options: BatchingProducerOptions = {},
  ) {
    this.producer = kafkajsOf(kafka).producer({ ...PRODUCER_DEFAULTS, idempotent: true, maxInFlightRequests: 1 });
    this.maxBatchMessages = options.maxBatchMessages ?? 10_000;
    this.lingerMs = options.lingerMs ?? 0;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  send(topic: string, messages: ProducedRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('producer is closed'));
    if (!this.connected) return Promise.reject(new Error('producer is not connected'));
    return new Promise<void>((resolve, reject) => {
      const bytes = messages.reduce((sum, m) => sum + messageBytes(m), 0);
      this.queue.push({ topic, messages, bytes, resolve, reject });
      if (!this.inFlight) this.schedule();
    });
  }

  private schedule(): void {
    this.inFlight = true;
    this.idle = new Promise((r) => (this.markIdle = r));
    if (this.lingerMs > 0) setTimeout(() => void this.drain(), this.lingerMs);
    else queueMicrotask(() => void this.drain());
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const taken: Pending[] = [];
      let count = 0;
      let bytes = 0;
      // Bounded by count and by size: the broker refuses record batches over max.message.bytes.
      while (
        this.queue.length > 0 &&
        (count === 0 ||
          (count + this.queue[0]!.messages.length <= this.maxBatchMessages && bytes + this.queue[0]!.bytes <= MAX_REQUEST_BYTES))
      ) {
        const next = this.queue.shift()!;
        taken.push(next);
        count += next.messages.length;
        bytes += next.bytes;
      }
      const byTopic = new Map<string, ProducedRecord[]>();
      for (const p of taken) {
        const list = byTopic.get(p.topic);
        if (list) for (const m of p.messages) list.push(m);
        else byTopic.set(p.topic, [...p.messages]);
      }
      const topicMessages: TopicRecords[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
      try {
        if (this.unconnected) {
          await this.producer.connect();
          this.unconnected = false;
        }
        await this.producer.sendBatch({ topicMessages, acks: -1 });
        for (const p of taken) p.resolve();
      } catch (error) {
        this.logger.error({ err: error, messages: count }, 'produce failed: replacing the producer');
        for (const p of taken) p.reject(error);
        if (!this.unconnected) await this.replaceProducer();
      }
    }
    this.inFlight = false;
    this.markIdle?.();
  }

  /**
   * kafkajs gives up on a request after its retries (the client's limit, so a send can fail and the caller
   * answer 503 instead of hanging while the broker is down). Its idempotent producer would then go on with
   * sequence numbers that may no longer match the broker's (the failed batch may have been written), and the
   * broker could drop a later batch as a "duplicate" while acknowledging it. A failed producer is therefore
   * never reused: the next send gets a new one with a new producer id, which makes the retry limit safe (the
   * caller's own retry is deduplicated by its Idempotency-Key).
   */
  private async replaceProducer(): Promise<void> {
    const failed = this.producer;
    this.producer = kafkajsOf(this.kafka).producer({ ...PRODUCER_DEFAULTS, idempotent: true, maxInFlightRequests: 1 });
    this.unconnected = true;
    await failed.disconnect().catch(() => undefined);
  }

  /** Waits for queued sends, then disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle;
    if (this.connected) await this.producer.disconnect();
    this.connected = false;
  }
}
