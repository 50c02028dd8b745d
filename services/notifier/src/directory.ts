import { subscriptionEventCodec, type Recipient, type SubscriptionEvent } from '@consult/contracts';
import type { Logger } from '@consult/config';
import { readToEnd, type Kafka } from '@consult/kafka';
import { withRetries } from './retry.js';

export interface Subscription {
  id: string;
  owner: Recipient;
  url: string;
  events: ReadonlySet<string>;
  secret: string;
  createdAt: string;
}

/**
 * The notifier's in-memory view of `subscription.events` (one partition), secrets included: the router needs
 * it to fan events out, the worker to sign. Loaded from Kafka at start, then kept current by the projector,
 * which applies each event before the Redis write the gateway waits for: once a subscription is visible to
 * its owner, the router routes to it.
 */
export class SubscriptionDirectory {
  private readonly subscriptions = new Map<string, Subscription>();
  private lastOffset = -1n;

  apply(event: SubscriptionEvent, offset: string): void {
    if (BigInt(offset) <= this.lastOffset) return;
    this.lastOffset = BigInt(offset);
    const d = event.data;
    if (event.type === 'subscription.created')
      this.subscriptions.set(d.subscriptionId, {
        id: d.subscriptionId,
        owner: event.data.owner,
        url: event.data.url,
        events: new Set(event.data.events),
        secret: event.data.secret,
        createdAt: event.data.createdAt,
      });
    else this.subscriptions.delete(d.subscriptionId);
  }

  get(id: string): Subscription | undefined {
    return this.subscriptions.get(id);
  }

  subscribedTo(eventType: string): Subscription[] {
    return [...this.subscriptions.values()].filter((s) => s.events.has(eventType));
  }

  get size(): number {
    return this.subscriptions.size;
  }

  async load(kafka: Kafka, topic: string, logger: Logger): Promise<void> {
    await withRetries(() => readToEnd(kafka, {
      topic,
      logger,
      groupIdPrefix: `${topic}.notifier-load`,
      onBatch: (_partition, messages) => {
        for (const m of messages) {
          try {
            this.apply(subscriptionEventCodec.decode(m.value), m.offset);
          } catch (error) {
            logger.error({ err: error, offset: m.offset }, 'skipping a malformed subscription event');
          }
        }
      },
    }));
    logger.info({ subscriptions: this.subscriptions.size }, 'subscriptions loaded');
  }
}
