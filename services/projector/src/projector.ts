import {
  commandOutcomeCodec,
  consultationEventCodec,
  csoEventCodec,
  identityEventCodec,
  projectorGroupId,
  type CommandOutcome,
  type TopicNames,
} from '@consult/contracts';
import type { Logger } from '@consult/config';
import type { Consumer, Kafka, KafkaMessage } from '@consult/kafka';
import { ConsultationReadModel, CsoReadModel } from '@consult/read-models';
import { KeySpace, RedisOffsetStore, type Redis } from '@consult/redis';

export interface ProjectorOptions {
  kafka: Kafka;
  redis: Redis;
  logger: Logger;
  topics: TopicNames;
  keyPrefix: string;
  groupId?: string;
}

/** What the projector announces after each applied batch, for gateways waiting to answer read-your-write. */
export interface ProjectionNotice {
  versions?: [string, number][];
  outcomes?: CommandOutcome[];
  /** API keys whose record changed (revoked, expiry set): gateways drop them from their caches at once. */
  keys?: { keyId: string; keyHash: string; type: string }[];
}

/**
 * Turns events into Redis read models. Each fetched batch becomes one MULTI holding its effects and the
 * batch's last offset, so effects and progress are stored atomically; on assignment the consumer seeks to the
 * offsets found in Redis (the beginning after a flush), which makes replays rebuild identical answers.
 */
export class Projector {
  private readonly consumer: Consumer;
  private readonly readModel: ConsultationReadModel;
  private readonly csoReadModel: CsoReadModel;
  private readonly offsets: RedisOffsetStore;
  /** Next offset to apply per `topic:partition`, as stored in Redis. */
  private readonly next = new Map<string, bigint>();
  private ready: Promise<void> = Promise.resolve();
  private applied = 0;
  private markAssigned!: () => void;
  /** Resolves once partitions were first assigned and the consumer positioned on the stored offsets. */
  readonly assigned: Promise<void> = new Promise((resolve) => (this.markAssigned = resolve));

  constructor(private readonly options: ProjectorOptions) {
    const keys = new KeySpace(options.keyPrefix);
    this.readModel = new ConsultationReadModel(keys);
    this.csoReadModel = new CsoReadModel(keys);
    this.offsets = new RedisOffsetStore(keys, 'projector');
    this.consumer = options.kafka.consumer({
      groupId: options.groupId ?? projectorGroupId(options.topics, options.keyPrefix),
      readUncommitted: false,
      allowAutoTopicCreation: false,
      // Answer fetches at once: the projector is the last hop before a waiting request is answered.
      maxWaitTimeInMs: 100,
      maxBytesPerPartition: 4 * 1024 * 1024,
    });
  }

  get eventsApplied(): number {
    return this.applied;
  }

  async start(): Promise<void> {
    const { consumer, options } = this;
    const topics = [options.topics.consultationEvents, options.topics.consultationOutcomes, options.topics.identityEvents];
    topics.push(options.topics.csoEvents, options.topics.csoOutcomes);
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.ready = this.seekToStoredOffsets(payload.memberAssignment);
      this.ready.then(() => this.markAssigned(), () => undefined);
      this.ready.catch((error: unknown) => options.logger.error({ err: error }, 'seeking to stored offsets failed'));
    });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      // Progress lives in Redis; Kafka's committed offset is only a hint for lag tools, so commit it lazily
      // instead of one OffsetCommit round trip per batch.
      autoCommit: true,
      autoCommitInterval: 5_000,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 16,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isStale }) => {
        await this.ready;
        if (isStale()) return;
        const field = RedisOffsetStore.field(batch.topic, batch.partition);
        const expected = this.next.get(field) ?? 0n;
        // The fetch started past what Redis holds (Kafka's committed offset is ahead, e.g. after a flush, and
        // the seek to the stored offset has not taken effect yet): go back. Offsets after `expected` that are
        // missing from a batch are transaction markers, not gaps, so only the fetch position is compared.
        const fetchedOffset = BigInt((batch as unknown as { fetchedOffset: string }).fetchedOffset);
        if (fetchedOffset > expected) {
          this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: expected.toString() });
          return;
        }
        const messages = batch.messages.filter((m) => BigInt(m.offset) >= expected);
        if (messages.length > 0) {
          await this.apply(batch.topic, batch.partition, messages);
          const last = messages[messages.length - 1]!.offset;
          this.next.set(field, BigInt(last) + 1n);
        }
        resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
        await heartbeat();
      },
    });
  }

  private async seekToStoredOffsets(assignment: Record<string, number[]>): Promise<void> {
    const stored = await this.offsets.nextOffsets(this.options.redis);
    this.next.clear();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const field = RedisOffsetStore.field(topic, partition);
        const offset = stored.get(field) ?? 0n;
        this.next.set(field, offset);
        this.consumer.seek({ topic, partition, offset: offset.toString() });
      }
    }
    this.options.logger.info({ assignment, resumeFrom: Object.fromEntries([...this.next].map(([k, v]) => [k, v.toString()])) }, 'projector resuming');
  }

  private async apply(topic: string, partition: number, messages: KafkaMessage[]): Promise<void> {
    const { redis, topics, logger } = this.options;
    const multi = redis.multi();
    const notice: ProjectionNotice = {};
    if (topic === topics.consultationEvents) {
      const versions = new Map<string, number>();
      for (const message of messages) {
        const raw = message.value?.toString('utf8') ?? null;
        const event = consultationEventCodec.decode(raw);
        this.readModel.applyEvent(multi, event, raw ?? undefined);
        versions.set(event.key, event.sequence);
      }
      notice.versions = [...versions];
    } else if (topic === topics.consultationOutcomes) {
      notice.outcomes = messages.map((m) => commandOutcomeCodec.decode(m.value));
      for (const outcome of notice.outcomes) this.readModel.applyOutcome(multi, outcome);
    } else if (topic === topics.csoEvents) {
      // CSO streams announce their versions under CsoReadModel.streamKey, apart from consultation ids.
      const versions = new Map<string, number>();
      for (const message of messages) {
        const event = csoEventCodec.decode(message.value);
        this.csoReadModel.applyEvent(multi, event);
        versions.set(CsoReadModel.streamKey(event.key), event.sequence);
      }
      notice.versions = [...versions];
    } else if (topic === topics.csoOutcomes) {
      notice.outcomes = messages.map((m) => commandOutcomeCodec.decode(m.value));
      for (const outcome of notice.outcomes) this.readModel.applyOutcome(multi, outcome);
    } else if (topic === topics.identityEvents) {
      notice.keys = [];
      for (const message of messages) {
        const event = identityEventCodec.decode(message.value);
        this.readModel.applyIdentity(multi, event);
        notice.keys.push({ keyId: event.data.keyId, keyHash: event.data.keyHash, type: event.type });
      }
    } else {
      logger.warn({ topic }, 'message from an unexpected topic');
      return;
    }
    this.offsets.record(multi, topic, partition, messages[messages.length - 1]!.offset);
    multi.publish(this.readModel.projectedChannel, JSON.stringify(notice));
    const results = await multi.exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new Error('redis transaction discarded');
    this.applied += messages.length;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
