import {
  audienceOf,
  needsAddressees,
  consultationEventCodec,
  csoEventCodec,
  deliveryRecordCodec,
  notifierGroupId,
  statementAudienceOf,
  subscriptionEventCodec,
  type ConsultationEvent,
  type CsoEvent,
  type DeliveryRecord,
  type NotificationTopicNames,
  type SubscriptionEvent,
  type TopicNames,
} from '@consult/contracts';
import type { Logger } from '@consult/config';
import type { BatchingProducer, KafkaClient } from '@consult/kafka';
import { NotificationReadModel, notifierOffsetLayout } from '@consult/read-models';
import { KeySpace, RedisOffsetStore, type ChainableCommander, type RedisClient } from '@consult/redis';
import { Quarantine, RedisProjection, type Decoded } from '@consult/streams';
import type { SubscriptionDirectory } from './directory.js';
import { coSignersOf, statementIdOf } from './router.js';

export interface NotificationProjectorOptions {
  kafka: KafkaClient;
  redis: RedisClient;
  logger: Logger;
  topics: TopicNames;
  notificationTopics: NotificationTopicNames;
  keyPrefix: string;
  directory: SubscriptionDirectory;
  /** Where records that do not decode are quarantined. */
  producer: BatchingProducer;
}

type NotificationRecord =
  | { kind: 'consultation-event'; event: ConsultationEvent }
  | { kind: 'cso-event'; event: CsoEvent }
  | { kind: 'subscription'; event: SubscriptionEvent }
  | { kind: 'delivery'; record: DeliveryRecord };

/**
 * Projects subscriptions, delivery history and the live event stream into Redis, exactly once per batch and
 * rebuilt by itself after a flush (`RedisProjection`), and keeps the in-memory subscription directory current.
 */
export class NotificationProjector {
  readonly readModel: NotificationReadModel;
  private readonly projection: RedisProjection<NotificationRecord>;

  constructor(private readonly options: NotificationProjectorOptions) {
    const keys = new KeySpace(options.keyPrefix);
    this.readModel = new NotificationReadModel(keys);
    const { topics, notificationTopics } = options;
    const groupId = notifierGroupId(topics, 'projector', options.keyPrefix);
    this.projection = new RedisProjection<NotificationRecord>({
      kafka: options.kafka,
      redis: options.redis,
      logger: options.logger,
      groupId,
      topics: [topics.consultationEvents, topics.csoEvents, notificationTopics.subscriptionEvents, notificationTopics.deliveries],
      offsets: new RedisOffsetStore(keys, 'notifier', notifierOffsetLayout(topics, notificationTopics)),
      quarantine: new Quarantine(options.producer, topics.quarantine, groupId, options.logger),
      decode: (topic, message): NotificationRecord => {
        if (topic === topics.consultationEvents) return { kind: 'consultation-event', event: consultationEventCodec.decode(message.value) };
        if (topic === topics.csoEvents) return { kind: 'cso-event', event: csoEventCodec.decode(message.value) };
        if (topic === notificationTopics.subscriptionEvents) return { kind: 'subscription', event: subscriptionEventCodec.decode(message.value) };
        return { kind: 'delivery', record: deliveryRecordCodec.decode(message.value) };
      },
      project: (commands, _topic, partition, records) => this.project(commands, partition, records),
      partitionsConsumedConcurrently: 3,
    });
  }

  get assigned(): Promise<void> {
    return this.projection.assigned;
  }

  async start(): Promise<void> {
    await this.projection.start();
  }

  private async project(commands: ChainableCommander, partition: number, records: Decoded<NotificationRecord>[]): Promise<void> {
    const { directory } = this.options;
    const events = records.flatMap((r) => (r.value.kind === 'consultation-event' ? [r.value.event] : []));
    const addressees = await this.addresseesFor(events);
    const coSigners = await this.coSignersFor(records.flatMap((r) => (r.value.kind === 'cso-event' ? [r.value.event] : [])));
    for (const { message, value } of records) {
      switch (value.kind) {
        case 'consultation-event': {
          const event = value.event;
          if (event.type === 'consultation.opened') {
            addressees.set(event.key, event.data.addressees);
            this.readModel.setAddressees(commands, event.key, event.data.addressees);
          }
          this.readModel.appendToStream(commands, partition, message.offset, event, audienceOf(event, addressees.get(event.key)));
          break;
        }
        case 'cso-event': {
          // Statement events join the live stream with their audience (co-signers remembered from the submission).
          const event = value.event;
          const statementId = statementIdOf(event);
          const named = coSignersOf(event);
          if (statementId && named && named.length > 0) {
            coSigners.set(statementId, named);
            this.readModel.setCoSigners(commands, statementId, named);
          }
          const audience = statementAudienceOf(event, statementId ? coSigners.get(statementId) : undefined);
          if (audience) this.readModel.appendToStatementStream(commands, partition, message.offset, event, audience);
          break;
        }
        case 'subscription':
          directory.apply(value.event, message.offset);
          this.readModel.applySubscription(commands, value.event);
          break;
        case 'delivery':
          this.readModel.applyDelivery(commands, value.record);
          break;
      }
    }
  }

  /** Co-signers of the statements of this batch, as stored by earlier batches. */
  private async coSignersFor(events: CsoEvent[]): Promise<Map<string, string[]>> {
    const ids = [...new Set(events.map((e) => statementIdOf(e)).filter((id): id is string => id !== undefined))];
    return this.readModel.coSignersOf(this.options.redis, ids);
  }

  /** Addressees of the consultations whose events in this batch need them (earlier batches stored them). */
  private async addresseesFor(events: ConsultationEvent[]): Promise<Map<string, string[]>> {
    const ids = [...new Set(events.filter(needsAddressees).map((e) => e.key))];
    return this.readModel.addresseesOf(this.options.redis, ids);
  }

  async stop(): Promise<void> {
    await this.projection.stop();
  }
}
