import {
  audienceOf,
  consultationEventCodec,
  deliveryRecordCodec,
  notifierGroupId,
  subscriptionEventCodec,
  type ConsultationEvent,
  type DeliveryRecord,
  type NotificationTopicNames,
  type SubscriptionEvent,
  type TopicNames,
} from '@consult/contracts';
import type { Logger } from '@consult/config';
import type { BatchingProducer, Kafka } from '@consult/kafka';
import { NotificationReadModel } from '@consult/read-models';
import { KeySpace, RedisOffsetStore, type ChainableCommander, type Redis } from '@consult/redis';
import { Quarantine, RedisProjection, type Decoded } from '@consult/streams';
import type { SubscriptionDirectory } from './directory.js';

export interface NotificationProjectorOptions {
  kafka: Kafka;
  redis: Redis;
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
      topics: [topics.consultationEvents, notificationTopics.subscriptionEvents, notificationTopics.deliveries],
      offsets: new RedisOffsetStore(keys, 'notifier'),
      quarantine: new Quarantine(options.producer, topics.quarantine, groupId, options.logger),
      decode: (topic, message): NotificationRecord => {
        if (topic === topics.consultationEvents) return { kind: 'consultation-event', event: consultationEventCodec.decode(message.value) };
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

  /** Addressees of the consultations whose deadline was extended in this batch (earlier batches stored them). */
  private async addresseesFor(events: ConsultationEvent[]): Promise<Map<string, string[]>> {
    const ids = [...new Set(events.filter((e) => e.type === 'consultation.deadline-extended').map((e) => e.key))];
    return this.readModel.addresseesOf(this.options.redis, ids);
  }

  async stop(): Promise<void> {
    await this.projection.stop();
  }
}
