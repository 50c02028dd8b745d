import {
  audienceOf,
  consultationEventCodec,
  csoEventCodec,
  deliveryRecordCodec,
  deterministicUuid,
  inAudience,
  NOTIFIABLE_EVENT_TYPES,
  notifierGroupId,
  statementAudienceOf,
  type Audience,
  type ConsultationEvent,
  type CsoEvent,
  type DeliveryRecordOf,
  type NotificationTopicNames,
  type TopicNames,
} from '@consult/contracts';
import type { Logger } from '@consult/config';
import { readToEnd, TransactionalProcessor, type KafkaClient, type ConsumedRecord, type ProducedRecord, type TopicRecords } from '@consult/kafka';
import type { Subscription, SubscriptionDirectory } from './directory.js';
import { isPoison, quarantineMessage } from '@consult/streams';
import { withRetries } from './retry.js';

export interface RouterOptions {
  kafka: KafkaClient;
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
  return subscribersIn(event.type, audienceOf(event, addressees), subscriptions);
}

/** The same for a statement event: the organisation (and its co-signers), the Secretariat, the committee. */
export function statementRecipientsOf(event: CsoEvent, coSigners: readonly string[] | undefined, subscriptions: readonly Subscription[]): Subscription[] {
  if (!notifiable.has(event.type)) return [];
  const audience = statementAudienceOf(event, coSigners);
  return audience ? subscribersIn(event.type, audience, subscriptions) : [];
}

function subscribersIn(type: string, audience: Audience, subscriptions: readonly Subscription[]): Subscription[] {
  return subscriptions.filter((s) => s.events.has(type) && inAudience(s.owner, audience));
}

/** The statement a `cso.*` event is about, if any (accreditation events are about the organisation). */
export function statementIdOf(event: CsoEvent): string | undefined {
  const data = event.data as { statementId?: unknown };
  return typeof data.statementId === 'string' ? data.statementId : undefined;
}

/** The co-signing organisations a statement names when submitted (none for statements without co-signers). */
export function coSignersOf(event: CsoEvent): string[] | undefined {
  if (event.type !== 'cso.statement-submitted') return undefined;
  const data = event.data as { coSigners?: unknown };
  return Array.isArray(data.coSigners) ? (data.coSigners as unknown[]).filter((c): c is string => typeof c === 'string') : [];
}

export function statementRouterGroupId(topics: TopicNames): string {
  return `${topics.csoEvents}.notifier-router`;
}

/**
 * Turns consultation events, and statement events from `cso.events`, into `delivery.requested` records, committed in one Kafka transaction with the
 * consumed offsets (TransactionalProcessor): after a crash or restart an event is routed exactly once, so a
 * subscription never gets a second delivery of it. Addressees (needed for `deadline-extended`) are kept per
 * consultation, loaded from the event topic on assignment; they never change after `opened`, so reading the
 * partition to its end (ahead of the committed offset) is harmless. Statement events go through a second
 * transactional processor on `cso.events` (its own group and transactional ids), filtered by `statementAudienceOf`.
 */
export class NotificationRouter {
  private readonly processor: TransactionalProcessor;
  /** Statement events (`cso.events`) go through a processor of their own: one input topic per transaction. */
  private readonly statements: TransactionalProcessor;
  private readonly addressees = new Map<string, string[]>();
  /** statement id → its co-signers (from `cso.statement-submitted`); later events of the statement reach them too. */
  private readonly coSigners = new Map<string, string[]>();
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
    this.statements = new TransactionalProcessor({
      kafka: options.kafka,
      logger: options.logger,
      groupId: statementRouterGroupId(options.topics),
      inputTopic: options.topics.csoEvents,
      transactionalIdPrefix: `${options.topics.csoEvents}.notifier-router`,
      maxMessagesPerTransaction: 500,
      load: (partitions) => this.loadStatements(partitions),
      process: (partition, messages) => this.processStatements(partition, messages),
    });
  }

  get assigned(): Promise<void> {
    return Promise.all([this.processor.assigned, this.statements.assigned]).then(() => undefined);
  }

  async start(): Promise<void> {
    await Promise.all([this.processor.start(), this.statements.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.processor.stop(), this.statements.stop()]);
  }

  /** Co-signers never change after submission, so reading ahead of the committed offset is harmless. */
  private async loadStatements(partitions: number[]): Promise<void> {
    await this.options.directoryReady;
    await withRetries(() => readToEnd(this.options.kafka, {
      topic: this.options.topics.csoEvents,
      partitions,
      logger: this.options.logger,
      groupIdPrefix: `${this.options.topics.csoEvents}.notifier-load`,
      onBatch: (_partition, messages) => {
        for (const m of messages) {
          const event = this.decodeStatement(m);
          if (event) this.remember(event);
        }
      },
    }));
  }

  private remember(event: CsoEvent): void {
    const coSigners = coSignersOf(event);
    const statementId = statementIdOf(event);
    if (coSigners && coSigners.length > 0 && statementId) this.coSigners.set(statementId, coSigners);
  }

  private decodeStatement(message: ConsumedRecord): CsoEvent | null {
    try {
      return csoEventCodec.decode(message.value);
    } catch (error) {
      if (!isPoison(error)) throw error;
      return null;
    }
  }

  private processStatements(partition: number, messages: ConsumedRecord[]): TopicRecords[] {
    const out: ProducedRecord[] = [];
    const quarantined: ProducedRecord[] = [];
    const requestedAt = this.now().toISOString();
    // The bytes this transaction copies: each embedded event counts once per subscription it goes to.
    let embedded = 0;
    for (const message of messages) {
      let event: CsoEvent;
      try {
        event = csoEventCodec.decode(message.value);
      } catch (error) {
        if (!isPoison(error)) throw error;
        this.options.logger.error({ partition, offset: message.offset, err: error }, 'quarantining a CSO event that does not decode');
        quarantined.push(quarantineMessage(statementRouterGroupId(this.options.topics), this.options.topics.csoEvents, partition, message, error));
        continue;
      }
      this.remember(event);
      const statementId = statementIdOf(event);
      const coSigners = statementId ? this.coSigners.get(statementId) : undefined;
      const targets = statementRecipientsOf(event, coSigners, this.options.directory.subscribedTo(event.type));
      // The same budget as consultation events: a statement body is up to 100,000 characters, too.
      const size = message.value?.length ?? 0;
      const embed = shouldEmbed(size, targets.length, embedded);
      if (embed) embedded += size * targets.length;
      for (const subscription of targets) out.push(this.request(event, subscription, requestedAt, statementId, embed));
    }
    return [
      { topic: this.options.notificationTopics.deliveries, messages: out },
      { topic: this.options.topics.quarantine, messages: quarantined },
    ];
  }

  /**
   * The delivery request of one event to one subscription. A large event is referenced rather than embedded (the
   * worker reads it from the consultation's history, or a statement event from its organisation's stream), so
   * many subscriptions to a large comment or statement cannot make a transaction of gigabytes. A request that
   * references a statement event is a v3 (v2 can only name a consultation's history); all else stays v2.
   */
  private request(event: ConsultationEvent | CsoEvent, subscription: Subscription, requestedAt: string, statementId?: string, embed = true): ProducedRecord {
    const deliveryId = deliveryIdOf(event.id, subscription.id);
    const common = {
      id: deterministicUuid(`delivery.requested:${deliveryId}`),
      source: 'notifier',
      type: 'delivery.requested' as const,
      occurredAt: requestedAt,
      key: subscription.id,
      correlationId: event.correlationId,
      causationId: event.id,
      actor: { kind: 'system' as const, id: 'notifier' },
    };
    const data = {
      deliveryId,
      subscriptionId: subscription.id,
      eventId: event.id,
      eventType: event.type as DeliveryRecordOf<'delivery.requested'>['data']['eventType'],
      consultationId: event.key,
      ...(statementId !== undefined ? { statementId } : {}),
      eventOccurredAt: event.occurredAt,
      requestedAt,
    };
    const record: DeliveryRecordOf<'delivery.requested'> = embed
      ? { ...common, version: 2, data: { ...data, event } }
      : statementId !== undefined
        ? { ...common, version: 3, data: { ...data, eventRef: { csoId: event.key, sequence: event.sequence } } }
        : { ...common, version: 2, data: { ...data, eventRef: { consultationId: event.key, sequence: event.sequence } } };
    return { key: subscription.id, value: deliveryRecordCodec.encode(record), headers: { 'event-type': record.type } };
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

  private decode(message: ConsumedRecord): ConsultationEvent | null {
    try {
      return consultationEventCodec.decode(message.value);
    } catch (error) {
      if (!isPoison(error)) throw error;
      return null;
    }
  }

  private process(partition: number, messages: ConsumedRecord[]): TopicRecords[] {
    const out: ProducedRecord[] = [];
    const quarantined: ProducedRecord[] = [];
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
      for (const subscription of targets) out.push(this.request(event, subscription, requestedAt, undefined, embed));
    }
    return [
      { topic: this.options.notificationTopics.deliveries, messages: out },
      { topic: this.options.topics.quarantine, messages: quarantined },
    ];
  }
}
