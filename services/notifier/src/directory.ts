import { subscriptionEventCodec, type Recipient, type SealedSecret, type SubscriptionEvent } from '@consult/contracts';
import type { Logger } from '@consult/config';
import { readToEnd, WatchedConsumer, type KafkaClient, type ConsumedRecord } from '@consult/kafka';
import type { KeyRevocations } from './key-revocations.js';
import { withRetries } from './retry.js';

/** A secret as recorded: sealed (opened with its data key when signing), or in clear (v1 events). */
export type StoredSecret = { sealed: SealedSecret } | { plain: string };

export interface Subscription {
  id: string;
  owner: Recipient;
  url: string;
  events: ReadonlySet<string>;
  secret: StoredSecret;
  /** The secret before the last rotation, signing too until `until` (ms since the epoch). */
  previous?: { secret: StoredSecret; until: number };
  /** The API key that created it (v2 events): its revocation or expiry stops the deliveries. */
  createdByKeyId?: string;
  createdAt: string;
}

/**
 * The notifier's in-memory view of `subscription.events` (one partition), secrets included: the router needs
 * it to fan events out, the worker to sign. Loaded from Kafka at start, then kept current in every notifier
 * process by following the topic (`follow`), and by the projector in the process that owns the partition,
 * which applies each event before the Redis write the gateway waits for: once a subscription is visible to
 * its owner, that process's router routes to it, and the other processes' within a fetch (about 100 ms).
 * Each event applies once, in offset order, whichever path brings it first.
 */
export class SubscriptionDirectory {
  private readonly subscriptions = new Map<string, Subscription>();
  private lastOffset = -1n;

  apply(event: SubscriptionEvent, offset: string): void {
    if (BigInt(offset) <= this.lastOffset) return;
    this.lastOffset = BigInt(offset);
    const d = event.data;
    if (event.type === 'subscription.created') {
      const data = event.data as { sealedSecret?: SealedSecret; secret?: string; createdByKeyId?: string } & typeof event.data;
      const secret: StoredSecret | null = data.sealedSecret ? { sealed: data.sealedSecret } : data.secret ? { plain: data.secret } : null;
      if (!secret) return;
      this.subscriptions.set(d.subscriptionId, {
        id: d.subscriptionId,
        owner: event.data.owner,
        url: event.data.url,
        events: new Set(event.data.events),
        secret,
        ...(data.createdByKeyId ? { createdByKeyId: data.createdByKeyId } : {}),
        createdAt: event.data.createdAt,
      });
    } else if (event.type === 'subscription.secret-rotated') {
      const current = this.subscriptions.get(d.subscriptionId);
      if (!current) return;
      current.previous = { secret: current.secret, until: Date.parse(event.data.previousSecretExpiresAt) };
      current.secret = { sealed: event.data.sealedSecret };
    } else this.subscriptions.delete(d.subscriptionId);
  }

  get(id: string): Subscription | undefined {
    return this.subscriptions.get(id);
  }

  /** Subscriptions to this event type, except those whose creating key was revoked (an expired key's still deliver). */
  subscribedTo(eventType: string): Subscription[] {
    return [...this.subscriptions.values()].filter((s) => s.events.has(eventType) && !this.revocations?.stopped(s.createdByKeyId));
  }

  /** Set once by the notifier: which keys no longer work. */
  revocations: KeyRevocations | undefined;

  get size(): number {
    return this.subscriptions.size;
  }

  private follower: WatchedConsumer | undefined;

  /** Follows the topic in this process (a group of its own) so that every instance sees every change. */
  async follow(kafka: KafkaClient, topic: string, logger: Logger): Promise<void> {
    this.follower = new WatchedConsumer({
      kafka,
      logger,
      topic,
      ownGroupPrefix: `${topic}.notifier-follow`,
      autoCommit: false,
      onBatch: ({ messages }) => messages.forEach((m) => this.applyRecord(m, logger)),
    });
    await this.follower.start();
  }

  async stop(): Promise<void> {
    await this.follower?.stop();
  }

  private applyRecord(m: ConsumedRecord, logger: Logger): void {
    if (BigInt(m.offset) <= this.lastOffset) return;
    try {
      this.apply(subscriptionEventCodec.decode(m.value), m.offset);
    } catch (error) {
      logger.error({ err: error, offset: m.offset }, 'skipping a malformed subscription event');
    }
  }

  async load(kafka: KafkaClient, topic: string, logger: Logger): Promise<void> {
    await withRetries(() => readToEnd(kafka, {
      topic,
      logger,
      groupIdPrefix: `${topic}.notifier-load`,
      onBatch: (_partition, messages) => {
        for (const m of messages) this.applyRecord(m, logger);
      },
    }));
    logger.info({ subscriptions: this.subscriptions.size }, 'subscriptions loaded');
  }
}
