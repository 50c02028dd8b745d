import {
  audienceOf,
  consultationEventCodec,
  deliveryRecordCodec,
  deterministicUuid,
  inAudience,
  NOTIFIABLE_EVENT_TYPES,
  notifierGroupId,
  type ConsultationEvent,
  type DeliveryRecordOf,
  type NotificationTopicNames,
  type TopicNames,
} from '@consult/contracts';
import type { Logger } from '@consult/config';
import { readToEnd, TransactionalProcessor, type Kafka, type KafkaMessage, type Message, type TopicMessages } from '@consult/kafka';
import type { Subscription, SubscriptionDirectory } from './directory.js';
import { isPoison, quarantineMessage } from '@consult/streams';
import { withRetries } from './retry.js';

export interface RouterOptions {
  kafka: Kafka;
  logger: Logger;
  topics: TopicNames;
  notificationTopics: NotificationTopicNames;
  directory: SubscriptionDirectory;
  /** Waited for before the first batch: the directory is loaded. */
  directoryReady: Promise<void>;
  now?: () => Date;
}

const notifiable = new Set<string>(NOTIFIABLE_EVENT_TYPES);

/** Events at most this large (encoded) may be embedded in a delivery request. */
export const MAX_EMBEDDED_EVENT_BYTES = 64 * 1024;
/** Embedded event bytes one routing transaction may carry; beyond it requests reference their event. */
export const EMBEDDED_BYTES_PER_TRANSACTION = 4 * 1024 * 1024;

/**
 * Whether an event of `size` bytes going to `fanOut` subscriptions is embedded in their requests, given the
 * bytes already embedded in this transaction; otherwise the requests reference it (a few hundred bytes each).
 */
export function shouldEmbed(size: number, fanOut: number, embeddedSoFar: number): boolean {
  return size <= MAX_EMBEDDED_EVENT_BYTES && embeddedSoFar + size * fanOut <= EMBEDDED_BYTES_PER_TRANSACTION;
}

/** Delivery ids are deterministic: the same event routed to the same subscription is the same delivery. */
export function deliveryIdOf(eventId: string, subscriptionId: string): string {
  return deterministicUuid(`delivery:${eventId}:${subscriptionId}`);
}

/** The subscriptions that get this event: subscribed to its type, and their owner is in its audience. */
export function recipientsOf(event: ConsultationEvent, addressees: readonly string[] | undefined, subscriptions: readonly Subscription[]): Subscription[] {
  if (!notifiable.has(event.type)) return [];
  const audience = audienceOf(event, addressees);
  return subscriptions.filter((s) => s.events.has(event.type) && inAudience(s.owner, audience));
}

/**
 * Turns consultation events into `delivery.requested` records, committed in one Kafka transaction with the
 * consumed offsets (TransactionalProcessor): after a crash or restart an event is routed exactly once, so a
 * subscription never gets a second delivery of it. Addressees (needed for `deadline-extended`) are kept per
 * consultation, loaded from the event topic on assignment; they never change after `opened`, so reading the
 * partition to its end (ahead of the committed offset) is harmless.
 */
export class NotificationRouter {
  private readonly processor: TransactionalProcessor;
  private readonly addressees = new Map<string, string[]>();
  private readonly now: () => Date;

  constructor(private readonly options: RouterOptions) {
    this.now = options.now ?? (() => new Date());
    this.processor = new TransactionalProcessor({
      kafka: options.kafka,
      logger: options.logger,
      groupId: notifierGroupId(options.topics, 'router'),
      inputTopic: options.topics.consultationEvents,
      transactionalIdPrefix: `${options.topics.consultationEvents}.notifier-router`,
      // Each event fans out to many requests that embed it: keep a transaction's record batches bounded.
      maxMessagesPerTransaction: 500,
      load: (partitions) => this.load(partitions),
      process: (partition, messages) => this.process(partition, messages),
    });
  }

  get assigned(): Promise<void> {
    return this.processor.assigned;
  }

  async start(): Promise<void> {
    await this.processor.start();
  }

  async stop(): Promise<void> {
    await this.processor.stop();
  }

  private async load(partitions: number[]): Promise<void> {
    await this.options.directoryReady;
    await withRetries(() => readToEnd(this.options.kafka, {
      topic: this.options.topics.consultationEvents,
      partitions,
      logger: this.options.logger,
      groupIdPrefix: `${this.options.topics.consultationEvents}.notifier-load`,
      onBatch: (_partition, messages) => {
        for (const m of messages) {
          const event = this.decode(m);
          if (event?.type === 'consultation.opened') this.addressees.set(event.key, event.data.addressees);
        }
      },
    }));
  }

  private decode(message: KafkaMessage): ConsultationEvent | null {
    try {
      return consultationEventCodec.decode(message.value);
    } catch (error) {
      if (!isPoison(error)) throw error;
      return null;
    }
  }

  private process(partition: number, messages: KafkaMessage[]): TopicMessages[] {
    const out: Message[] = [];
    const quarantined: Message[] = [];
    const requestedAt = this.now().toISOString();
    // The bytes this transaction copies: each embedded event counts once per subscription it goes to.
    let embedded = 0;
    for (const message of messages) {
      let event: ConsultationEvent;
      try {
        event = consultationEventCodec.decode(message.value);
      } catch (error) {
        if (!isPoison(error)) throw error;
        this.options.logger.error({ partition, offset: message.offset, err: error }, 'quarantining a consultation event that does not decode');
        const consumer = notifierGroupId(this.options.topics, 'router');
        quarantined.push(quarantineMessage(consumer, this.options.topics.consultationEvents, partition, message, error));
        continue;
      }
      if (event.type === 'consultation.opened') this.addressees.set(event.key, event.data.addressees);
      const targets = recipientsOf(event, this.addressees.get(event.key), this.options.directory.subscribedTo(event.type));
      const size = message.value?.length ?? 0;
      const embed = shouldEmbed(size, targets.length, embedded);
      if (embed) embedded += size * targets.length;
      for (const subscription of targets) {
        const deliveryId = deliveryIdOf(event.id, subscription.id);
        const record: DeliveryRecordOf<'delivery.requested'> = {
          id: deterministicUuid(`delivery.requested:${deliveryId}`),
          source: 'notifier',
          type: 'delivery.requested',
          version: 2,
          occurredAt: requestedAt,
          key: subscription.id,
          correlationId: event.correlationId,
          causationId: event.id,
          actor: { kind: 'system', id: 'notifier' },
          data: {
            deliveryId,
            subscriptionId: subscription.id,
            eventId: event.id,
            eventType: event.type,
            consultationId: event.key,
            eventOccurredAt: event.occurredAt,
            ...(embed ? { event } : { eventRef: { consultationId: event.key, sequence: event.sequence } }),
            requestedAt,
          },
        };
        out.push({ key: subscription.id, value: deliveryRecordCodec.encode(record), headers: { 'event-type': record.type } });
      }
    }
    return [
      { topic: this.options.notificationTopics.deliveries, messages: out },
      { topic: this.options.topics.quarantine, messages: quarantined },
    ];
  }
}
