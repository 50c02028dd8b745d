import { randomUUID } from 'node:crypto';
import {
  deliveryRecordCodec,
  openWebhookSecret,
  webhookSigningKey,
  notifierGroupId,
  type DeliveryRecord,
  type DeliveryRecordOf,
  type EventRef,
  type NotificationBody,
  type NotificationTopicNames,
  type TopicNames,
} from '@consult/contracts';
import type { Logger } from '@consult/config';
import { readToEnd, WatchedConsumer, type BatchingProducer, type KafkaClient, type ConsumedRecord } from '@consult/kafka';
import { retryDelayMs, shouldRetry, type RetryPolicy } from './backoff.js';
import type { StoredSecret, Subscription, SubscriptionDirectory } from './directory.js';
import type { DataKeyStore } from './data-keys.js';
import { legacySignatureHeader, standardWebhookHeaders } from './signature.js';
import { withRetries } from './retry.js';
import { createWebhookPost, type WebhookPost } from './webhook-post.js';

export interface DeliveryPolicy extends RetryPolicy {
  /** One attempt's limit: connect, send and the answer's status. */
  timeoutMs: number;
  /** Attempts in flight over all subscriptions. */
  concurrency: number;
  /** Attempts in flight per subscription: a slow receiver holds at most this many slots, for at most `timeoutMs`. */
  perSubscriptionConcurrency: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  maxAttempts: 6,
  timeoutMs: 5_000,
  concurrency: 64,
  perSubscriptionConcurrency: 8,
};

interface DeliveryState {
  /** Always the newest version's data: decoding upcasts older requests. */
  request: Extract<DeliveryRecordOf<'delivery.requested'>, { version: 3 }>['data'];
  partition: number;
  round: number;
  /** Attempts made in the current round. */
  attempts: number;
  lastAttemptAt: number | null;
  status: 'pending' | 'delivered' | 'dead-lettered';
  redeliveries: Set<string>;
  /** Queued or waiting for a retry timer: not to be queued twice. */
  scheduled: boolean;
}

/** A FIFO with O(1) shift, for queues of thousands. */
class Queue<T> {
  private items: T[] = [];
  private head = 0;
  push(item: T): void {
    this.items.push(item);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
  get length(): number {
    return this.items.length - this.head;
  }
}

export interface DeliveryWorkerOptions {
  kafka: KafkaClient;
  logger: Logger;
  topics: TopicNames;
  notificationTopics: NotificationTopicNames;
  producer: BatchingProducer;
  directory: SubscriptionDirectory;
  directoryReady: Promise<void>;
  /**
   * Reads an event a request references instead of embedding (`eventRef`): the consultation's history, or for a
   * statement event its organisation's stream, as produced. Null while it is not there yet (e.g. being rebuilt
   * after a Redis flush): the attempt waits.
   */
  loadEvent?: (ref: EventRef, eventId: string) => Promise<unknown>;
  /** Opens sealed secrets; without it only secrets recorded in clear (v1 events) can sign. */
  dataKeys?: DataKeyStore;
  policy: DeliveryPolicy;
  /** How attempts are sent; by default node:http(s) with internal targets refused (see webhook-post.ts). */
  post?: WebhookPost;
  /** Development and tests only: let webhooks reach loopback and private addresses. */
  allowPrivateTargets?: boolean;
  now?: () => Date;
}

/**
 * Sends requested deliveries as signed HTTP POSTs. Its state (per delivery: round, attempts, outcome) is the
 * fold of `notification.deliveries`, rebuilt from Kafka on assignment, so a delivery that succeeded before a
 * restart is never sent again and a pending one resumes its backoff. Each attempt's outcome is produced before
 * the next step; a crash between a receiver's 2xx and that record can repeat one attempt, with the same
 * delivery id, which receivers use to drop duplicates.
 *
 * Each subscription has its own queue; at most `perSubscriptionConcurrency` of its attempts are in flight and
 * every attempt has a timeout, while retries wait on timers without holding a slot, so a slow or dead receiver
 * never delays the others.
 */
export class DeliveryWorker {
  private readonly consumer: WatchedConsumer;
  private readonly states = new Map<string, DeliveryState>();
  private readonly loadedEnds = new Map<number, bigint>();
  private readonly queues = new Map<string, Queue<DeliveryState>>();
  private readonly active = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private activeTotal = 0;
  private stopped = false;
  private readonly post: WebhookPost;
  private readonly now: () => Date;

  constructor(private readonly options: DeliveryWorkerOptions) {
    this.post = options.post ?? createWebhookPost({ allowPrivateTargets: options.allowPrivateTargets ?? false });
    this.now = options.now ?? (() => new Date());
    this.consumer = new WatchedConsumer({
      kafka: options.kafka,
      logger: options.logger,
      topic: options.notificationTopics.deliveries,
      groupId: notifierGroupId(options.topics, 'worker'),
      autoCommit: true,
      onAssigned: (partitions) => this.load(partitions),
      onBatch: async ({ partition, messages, heartbeat, isStale }) => {
        if (isStale() || this.stopped) return;
        const end = this.loadedEnds.get(partition) ?? 0n;
        for (const message of messages) {
          // What the load read is folded already; the rest is new.
          if (BigInt(message.offset) < end) continue;
          this.consume(partition, message);
        }
        await heartbeat();
      },
    });
  }

  async start(): Promise<void> {
    await this.consumer.start();
  }

  /** Resolves once partitions were first assigned and their deliveries loaded. */
  get assigned(): Promise<void> {
    return this.consumer.assigned;
  }

  /** Rebuilds the state of these partitions' deliveries and queues what is still pending. */
  private async load(partitions: number[]): Promise<void> {
    await this.options.directoryReady;
    const owned = new Set(partitions);
    for (const [id, state] of this.states) if (!owned.has(state.partition)) this.states.delete(id);
    for (const p of [...this.loadedEnds.keys()]) if (!owned.has(p)) this.loadedEnds.delete(p);
    const fresh = partitions.filter((p) => !this.loadedEnds.has(p));
    if (fresh.length === 0) return;
    // What the load folded, by the offsets it actually read: the end offsets it aimed at may include records of
    // a transaction still open then, which the consumer must not skip once they commit.
    const folded = new Map<number, bigint>();
    await withRetries(() => readToEnd(this.options.kafka, {
      topic: this.options.notificationTopics.deliveries,
      partitions: fresh,
      logger: this.options.logger,
      groupIdPrefix: `${this.options.notificationTopics.deliveries}.worker-load`,
      onBatch: (partition, messages) => {
        for (const m of messages) {
          this.fold(partition, this.decode(m));
          folded.set(partition, BigInt(m.offset) + 1n);
        }
      },
    }));
    for (const p of fresh) this.loadedEnds.set(p, folded.get(p) ?? 0n);
    let pending = 0;
    for (const state of this.states.values()) {
      if (state.status !== 'pending' || state.scheduled || !fresh.includes(state.partition)) continue;
      pending++;
      const wait = state.attempts === 0 || state.lastAttemptAt === null
        ? 0
        : Math.max(0, state.lastAttemptAt + retryDelayMs(state.attempts, this.options.policy) - Date.now());
      this.schedule(state, wait);
    }
    this.options.logger.info({ partitions: fresh, deliveries: this.states.size, pending }, 'deliveries loaded');
  }

  private decode(message: ConsumedRecord): DeliveryRecord | null {
    try {
      return deliveryRecordCodec.decode(message.value);
    } catch (error) {
      this.options.logger.error({ err: error, offset: message.offset }, 'skipping a malformed delivery record');
      return null;
    }
  }

  private consume(partition: number, message: ConsumedRecord): void {
    const state = this.fold(partition, this.decode(message));
    if (state?.status === 'pending' && !state.scheduled) this.schedule(state, 0);
  }

  /**
   * Applies one record to the state. Idempotent for the worker's own records (attempt numbers are absolute
   * within a round), so folding what it produced itself, again, changes nothing.
   */
  private fold(partition: number, record: DeliveryRecord | null): DeliveryState | undefined {
    if (!record) return undefined;
    const id = record.data.deliveryId;
    const state = this.states.get(id);
    switch (record.type) {
      case 'delivery.requested': {
        if (state) return undefined;
        const created: DeliveryState = {
          request: record.data,
          partition,
          round: 1,
          attempts: 0,
          lastAttemptAt: null,
          status: 'pending',
          redeliveries: new Set(),
          scheduled: false,
        };
        this.states.set(id, created);
        return created;
      }
      case 'delivery.attempted': {
        if (!state || record.data.round !== state.round) return undefined;
        state.attempts = Math.max(state.attempts, record.data.attempt);
        state.lastAttemptAt = Math.max(state.lastAttemptAt ?? 0, Date.parse(record.data.at));
        if (record.data.outcome === 'succeeded') state.status = 'delivered';
        return state;
      }
      case 'delivery.dead-lettered':
        if (state && record.data.round === state.round && state.status === 'pending') state.status = 'dead-lettered';
        return state;
      case 'delivery.redelivery-requested': {
        if (!state || state.redeliveries.has(record.data.requestId)) return undefined;
        state.redeliveries.add(record.data.requestId);
        // A redelivery while attempts are still running changes nothing: the round goes on.
        if (state.status === 'pending') return undefined;
        state.round += 1;
        state.attempts = 0;
        state.lastAttemptAt = null;
        state.status = 'pending';
        return state;
      }
    }
  }

  private schedule(state: DeliveryState, delayMs: number): void {
    if (this.stopped) return;
    state.scheduled = true;
    if (delayMs <= 0) {
      this.enqueue(state);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.enqueue(state);
    }, delayMs);
    this.timers.add(timer);
  }

  private enqueue(state: DeliveryState): void {
    const key = state.request.subscriptionId;
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = new Queue()));
    queue.push(state);
    this.pump();
  }

  private pump(): void {
    const { concurrency, perSubscriptionConcurrency } = this.options.policy;
    for (const [subscriptionId, queue] of this.queues) {
      if (this.activeTotal >= concurrency || this.stopped) return;
      while (queue.length > 0 && this.activeTotal < concurrency && (this.active.get(subscriptionId) ?? 0) < perSubscriptionConcurrency) {
        const state = queue.shift()!;
        this.activeTotal++;
        this.active.set(subscriptionId, (this.active.get(subscriptionId) ?? 0) + 1);
        let released = false;
        // The slot limits requests to the receiver: it is given back as soon as the HTTP exchange is over,
        // while the outcome is still being recorded.
        const release = (): void => {
          if (released) return;
          released = true;
          this.activeTotal--;
          this.active.set(subscriptionId, (this.active.get(subscriptionId) ?? 1) - 1);
          this.pump();
        };
        const run = this.attempt(state, release)
          .catch((error: unknown) => this.options.logger.error({ err: error, deliveryId: state.request.deliveryId }, 'delivery step failed'))
          .finally(() => {
            this.inFlight.delete(run);
            release();
          });
        this.inFlight.add(run);
      }
      if (queue.length === 0) this.queues.delete(subscriptionId);
    }
  }

  private async attempt(state: DeliveryState, release: () => void): Promise<void> {
    const { request } = state;
    // Dropped on rebalance, or settled meanwhile (e.g. folded from a restart's load): nothing to do.
    if (this.states.get(request.deliveryId) !== state || state.status !== 'pending') {
      state.scheduled = false;
      return;
    }
    const subscription = this.options.directory.get(request.subscriptionId);
    if (!subscription) {
      state.scheduled = false;
      this.options.logger.info({ deliveryId: request.deliveryId }, 'subscription deleted: delivery dropped');
      return;
    }
    if (this.options.directory.revocations?.stopped(subscription.createdByKeyId)) {
      state.scheduled = false;
      this.options.logger.info({ deliveryId: request.deliveryId, subscriptionId: subscription.id }, 'the key that created the subscription was revoked: delivery dropped');
      return;
    }
    const { policy } = this.options;
    const secrets = await this.secretsOf(subscription);
    if (secrets.length === 0) {
      // Its data key is destroyed (deleted meanwhile) or cannot be opened (wrong operator key): never send unsigned.
      state.scheduled = false;
      this.options.logger.error({ deliveryId: request.deliveryId, subscriptionId: subscription.id }, 'the subscription secret cannot be opened: delivery dropped');
      return;
    }
    const event = await this.eventOf(request);
    if (event === null) {
      // Referenced and not readable yet: try again later without spending an attempt.
      this.options.logger.warn({ deliveryId: request.deliveryId }, 'the referenced event is not readable yet');
      this.schedule(state, policy.baseDelayMs);
      return;
    }
    const attempt = state.attempts + 1;
    const notification: NotificationBody = {
      deliveryId: request.deliveryId,
      subscriptionId: request.subscriptionId,
      type: request.eventType,
      event,
    };
    const body = JSON.stringify(notification);
    const startedAt = this.now();
    const started = performance.now();
    let statusCode: number | undefined;
    let error: string | undefined;
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(policy.timeoutMs), this.abort.signal]);
      statusCode = await this.post(subscription.url, {
        body,
        signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'consultation-notifier/1',
          // Standard Webhooks (docs/webhooks.md); the id is the delivery id, the same for every retry.
          ...standardWebhookHeaders(secrets.map(webhookSigningKey), request.deliveryId, Math.floor(startedAt.getTime() / 1000), body),
          'x-delivery-id': request.deliveryId,
          'x-delivery-attempt': String(attempt),
          'x-event-type': request.eventType,
          'x-event-id': request.eventId,
          'x-signature': legacySignatureHeader(secrets, body, Math.floor(startedAt.getTime() / 1000)),
        },
      });
    } catch (e) {
      const err = e as Error;
      error = err.name === 'TimeoutError' ? `timed out after ${policy.timeoutMs} ms` : `${err.name}: ${err.message}`.slice(0, 500);
    }
    const durationMs = Math.round(performance.now() - started);
    release();
    // Stopping aborts attempts in flight; one the receiver already answered is still recorded (the producer
    // closes after the worker), or a restart would send it again.
    if (this.stopped && statusCode === undefined) return;
    const succeeded = statusCode !== undefined && statusCode >= 200 && statusCode < 300;
    const retry = !succeeded && shouldRetry(attempt, policy);
    const delay = retry ? retryDelayMs(attempt, policy) : 0;
    const at = startedAt.toISOString();
    const attempted: DeliveryRecordOf<'delivery.attempted'> = {
      ...this.envelope('delivery.attempted', state),
      data: {
        deliveryId: request.deliveryId,
        subscriptionId: request.subscriptionId,
        round: state.round,
        attempt,
        at,
        durationMs,
        outcome: succeeded ? 'succeeded' : 'failed',
        ...(statusCode !== undefined ? { statusCode } : {}),
        ...(error !== undefined ? { error } : {}),
        ...(retry ? { nextAttemptAt: new Date(Date.now() + delay).toISOString() } : {}),
      },
    };
    const records: DeliveryRecord[] = [attempted];
    if (!succeeded && !retry)
      records.push({
        ...this.envelope('delivery.dead-lettered', state),
        data: { deliveryId: request.deliveryId, subscriptionId: request.subscriptionId, round: state.round, attempts: attempt, at: this.now().toISOString() },
      });
    const messages = records.map((r) => ({ key: request.subscriptionId, value: deliveryRecordCodec.encode(r), headers: { 'event-type': r.type } }));
    try {
      await this.options.producer.send(this.options.notificationTopics.deliveries, messages);
      if (records.length > 1) await this.options.producer.send(this.options.notificationTopics.deadLetters, [messages[1]!, this.requestMessage(state)]);
    } catch (produceError) {
      // The outcome is not recorded: try the attempt again later rather than lose track of it.
      this.options.logger.error({ err: produceError, deliveryId: request.deliveryId }, 'recording an attempt failed');
      this.schedule(state, Math.max(delay, policy.baseDelayMs));
      return;
    }
    for (const r of records) this.fold(state.partition, r);
    if (state.status === 'pending') this.schedule(state, delay);
    else state.scheduled = false;
  }

  private requestMessage(state: DeliveryState): { key: string; value: string; headers: Record<string, string> } {
    // Decoded requests are v3 (older ones upcast): copied as such, whatever their event reference.
    const record: DeliveryRecordOf<'delivery.requested'> = { ...this.envelope('delivery.requested', state), version: 3, data: state.request };
    return { key: state.request.subscriptionId, value: deliveryRecordCodec.encode(record), headers: { 'event-type': record.type } };
  }

  private envelope<T extends DeliveryRecord['type']>(type: T, state: DeliveryState) {
    return {
      id: randomUUID(),
      source: 'notifier',
      type,
      version: 1 as const,
      occurredAt: this.now().toISOString(),
      key: state.request.subscriptionId,
      correlationId: state.request.deliveryId,
      causationId: state.request.eventId,
      actor: { kind: 'system' as const, id: 'notifier' },
    };
  }

  private async eventOf(request: DeliveryState['request']): Promise<unknown> {
    if ('event' in request && request.event !== undefined) return request.event;
    const ref = 'eventRef' in request ? request.eventRef : undefined;
    if (!ref || !this.options.loadEvent) return null;
    return (await this.options.loadEvent(ref, request.eventId).catch(() => null)) ?? null;
  }

  /** The secrets that sign now: the current one, and the previous one during a rotation's overlap. */
  private async secretsOf(subscription: Subscription): Promise<string[]> {
    const open = async (secret: StoredSecret): Promise<string | null> => {
      if ('plain' in secret) return secret.plain;
      const key = await this.options.dataKeys?.get(secret.sealed.keyRef);
      if (!key) return null;
      try {
        return openWebhookSecret(key, subscription.id, secret.sealed);
      } catch {
        return null;
      }
    };
    const current = await open(subscription.secret);
    if (current === null) return [];
    const previous = subscription.previous && subscription.previous.until > this.now().getTime() ? await open(subscription.previous.secret) : null;
    return previous === null ? [current] : [current, previous];
  }

  /** Deliveries this worker knows, by status (for tests and metrics). */
  counts(): Record<DeliveryState['status'], number> {
    const counts = { pending: 0, delivered: 0, 'dead-lettered': 0 };
    for (const s of this.states.values()) counts[s.status]++;
    return counts;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.abort.abort();
    await Promise.allSettled([...this.inFlight]);
    await this.consumer.stop();
  }
}
