import {
  audienceOf,
  consultationEventCodec,
  csoEventCodec,
  deliveryRecordCodec,
  notifierGroupId,
  statementAudienceOf,
  subscriptionEventCodec,
  type ConsultationEvent,
  type NotificationTopicNames,
  type TopicNames,
} from '@consult/contracts';
import type { Logger } from '@consult/config';
import type { Consumer, Kafka, KafkaMessage } from '@consult/kafka';
import { NotificationReadModel } from '@consult/read-models';
import { KeySpace, RedisOffsetStore, type Redis } from '@consult/redis';
import type { SubscriptionDirectory } from './directory.js';
import { coSignersOf, statementIdOf } from './router.js';

export interface NotificationProjectorOptions {
  kafka: Kafka;
  redis: Redis;
  logger: Logger;
  topics: TopicNames;
  notificationTopics: NotificationTopicNames;
  keyPrefix: string;
  directory: SubscriptionDirectory;
}

/**
 * Projects subscriptions, delivery history and the live event stream into Redis, the way the consultation
 * projector does: each batch's effects and its last offset go in one MULTI; on assignment the consumer seeks
 * to the offsets stored in Redis (the beginning after a flush), so a flush is followed by a full rebuild.
 */
export class NotificationProjector {
  private readonly consumer: Consumer;
  readonly readModel: NotificationReadModel;
  private readonly offsets: RedisOffsetStore;
  private readonly next = new Map<string, bigint>();
  private ready: Promise<void> = Promise.resolve();
  private markAssigned!: () => void;
  readonly assigned: Promise<void> = new Promise((resolve) => (this.markAssigned = resolve));

  constructor(private readonly options: NotificationProjectorOptions) {
    const keys = new KeySpace(options.keyPrefix);
    this.readModel = new NotificationReadModel(keys);
    this.offsets = new RedisOffsetStore(keys, 'notifier');
    this.consumer = options.kafka.consumer({
      groupId: notifierGroupId(options.topics, 'projector', options.keyPrefix),
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
      maxBytesPerPartition: 4 * 1024 * 1024,
    });
  }

  async start(): Promise<void> {
    const { consumer, options } = this;
    const topics = [
      options.topics.consultationEvents,
      options.topics.csoEvents,
      options.notificationTopics.subscriptionEvents,
      options.notificationTopics.deliveries,
    ];
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.ready = this.seekToStoredOffsets(payload.memberAssignment);
      this.ready.then(() => this.markAssigned(), () => undefined);
      this.ready.catch((error: unknown) => options.logger.error({ err: error }, 'seeking to stored offsets failed'));
    });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isStale }) => {
        await this.ready;
        if (isStale()) return;
        const field = RedisOffsetStore.field(batch.topic, batch.partition);
        const expected = this.next.get(field) ?? 0n;
        const fetchedOffset = BigInt((batch as unknown as { fetchedOffset: string }).fetchedOffset);
        if (fetchedOffset > expected) {
          this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: expected.toString() });
          return;
        }
        const messages = batch.messages.filter((m) => BigInt(m.offset) >= expected);
        if (messages.length > 0) {
          await this.apply(batch.topic, batch.partition, messages);
          this.next.set(field, BigInt(messages[messages.length - 1]!.offset) + 1n);
        }
        if (batch.messages.length > 0) resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
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
  }

  private async apply(topic: string, partition: number, messages: KafkaMessage[]): Promise<void> {
    const { redis, topics, notificationTopics, logger, directory } = this.options;
    const multi = redis.multi();
    if (topic === topics.consultationEvents) {
      const events = messages.map((m) => [m, consultationEventCodec.decode(m.value)] as const);
      const addressees = await this.addresseesFor(events.map(([, e]) => e));
      for (const [message, event] of events) {
        if (event.type === 'consultation.opened') {
          addressees.set(event.key, event.data.addressees);
          this.readModel.setAddressees(multi, event.key, event.data.addressees);
        }
        this.readModel.appendToStream(multi, partition, message.offset, event, audienceOf(event, addressees.get(event.key)));
      }
    } else if (topic === topics.csoEvents) {
      await this.applyStatements(multi, partition, messages);
    } else if (topic === notificationTopics.subscriptionEvents) {
      for (const message of messages) {
        const event = subscriptionEventCodec.decode(message.value);
        directory.apply(event, message.offset);
        this.readModel.applySubscription(multi, event);
      }
    } else if (topic === notificationTopics.deliveries) {
      for (const message of messages) this.readModel.applyDelivery(multi, deliveryRecordCodec.decode(message.value));
    } else {
      logger.warn({ topic }, 'message from an unexpected topic');
      return;
    }
    this.offsets.record(multi, topic, partition, messages[messages.length - 1]!.offset);
    const results = await multi.exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new Error('redis transaction discarded');
  }

  /** Statement events join the live stream with their audience (co-signers remembered from the submission). */
  private async applyStatements(multi: ReturnType<Redis['multi']>, partition: number, messages: KafkaMessage[]): Promise<void> {
    const events = messages.map((m) => [m, csoEventCodec.decode(m.value)] as const);
    const ids = [...new Set(events.map(([, e]) => statementIdOf(e)).filter((id): id is string => id !== undefined))];
    const coSigners = await this.readModel.coSignersOf(this.options.redis, ids);
    for (const [message, event] of events) {
      const statementId = statementIdOf(event);
      const named = coSignersOf(event);
      if (statementId && named && named.length > 0) {
        coSigners.set(statementId, named);
        this.readModel.setCoSigners(multi, statementId, named);
      }
      const audience = statementAudienceOf(event, statementId ? coSigners.get(statementId) : undefined);
      if (audience) this.readModel.appendToStatementStream(multi, partition, message.offset, event, audience);
    }
  }

  /** Addressees of the consultations whose deadline was extended in this batch (earlier batches stored them). */
  private async addresseesFor(events: ConsultationEvent[]): Promise<Map<string, string[]>> {
    const ids = [...new Set(events.filter((e) => e.type === 'consultation.deadline-extended').map((e) => e.key))];
    return this.readModel.addresseesOf(this.options.redis, ids);
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
