import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import {
  deterministicUuid,
  deliveryRecordCodec,
  forbiddenAddressReason,
  generateWebhookSecret,
  isLocalName,
  sealWebhookSecret,
  subscriptionDataKeyCodec,
  subscriptionEventCodec,
  webhookHost,
  type DeliveryRecordOf,
  type NotificationTopicNames,
  type SubscriptionEvent,
} from '@consult/contracts';
import type { BatchingProducer } from '@consult/kafka';
import type { NotificationReadModel, SubscriptionView } from '@consult/read-models';
import type { RedisClient as Redis } from '@consult/redis';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { HttpProblem } from '../problems.js';
import { IdempotencyHeaders, Problem } from '../schemas.js';
import {
  CreateSubscriptionBody,
  DeliveryList,
  DeliveryParams,
  ListDeliveriesQuery,
  RedeliveryAccepted,
  RotateSecretBody,
  SecretRotated,
  SubscriptionList,
  SubscriptionParams,
  SubscriptionResponse,
} from './subscription-schemas.js';

/**
 * How long a reserved subscription place outlives a gateway that died while creating it: far longer than a
 * subscription takes to be projected, so the place is never counted twice nor lost in between.
 */
const RESERVATION_TTL_MS = 5 * 60_000;

export interface SubscriptionRoutesContext {
  redis: Redis;
  producer: BatchingProducer;
  readModel: NotificationReadModel;
  topics: NotificationTopicNames;
  /** How long a change waits to become visible in the read model before it is answered anyway. */
  visibleTimeoutMs: number;
  /** The operator's key that seals webhook secrets at rest (WEBHOOK_SECRETS_KEY). */
  secretsKey: Buffer;
  /** Development and tests only: subscriptions may name loopback and private addresses. */
  allowPrivateTargets: boolean;
  /** Subscriptions one principal may hold at once. */
  maxSubscriptionsPerPrincipal: number;
}

/**
 * Refuses URLs whose host is, or resolves to, an internal address (SSRF). The notifier checks again at
 * delivery time, on the address it connects to, so a name rebound to 127.0.0.1 later does not get through.
 */
async function assertPublicTarget(url: URL): Promise<void> {
  const host = webhookHost(url);
  if (isLocalName(host)) throw new HttpProblem('webhook-target-forbidden', `body/url: ${host} is this machine`);
  let addresses: string[];
  if (isIP(host) !== 0) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true })).map((a) => a.address);
    } catch {
      throw new HttpProblem('webhook-target-unresolvable', `body/url: ${host} does not resolve`);
    }
  }
  for (const address of addresses) {
    const why = forbiddenAddressReason(address);
    if (why) throw new HttpProblem('webhook-target-forbidden', `body/url: ${host === address ? host : `${host} (${address})`} is ${why}`);
  }
}

const render = (s: SubscriptionView) => ({ id: s.id, url: s.url, events: s.events, createdAt: s.createdAt });

/**
 * Webhook subscriptions, for any principal and only its own. A change is validated, produced as a
 * `subscription.*` event (kept forever: the list and the secrets survive a Redis flush) and answered once the
 * notifier's read model shows it, so the next GET sees it and the router already routes to it.
 */
export function subscriptionRoutes(context: SubscriptionRoutesContext): FastifyPluginAsyncTypebox {
  const { redis, readModel, producer, topics } = context;

  const until = async (check: () => Promise<boolean>): Promise<boolean> => {
    const deadline = Date.now() + context.visibleTimeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  };

  const own = async (request: FastifyRequest, id: string): Promise<SubscriptionView> => {
    const view = await readModel.subscriptionById(redis, id);
    const p = request.principal;
    if (!view || view.owner.kind !== p.kind || view.owner.id !== p.id) throw new HttpProblem('not-found', `no subscription ${id}`);
    return view;
  };

  const envelope = (request: FastifyRequest, key: string) => ({
    id: randomUUID(),
    source: 'gateway',
    occurredAt: request.receivedAt,
    key,
    correlationId: request.id,
    causationId: null,
    actor: { kind: request.principal.kind, id: request.principal.id },
  });

  /** A data key goes to the compacted key topic before the event that uses it, so no reader sees one without the other. */
  const produceDataKey = async (dataKey: ReturnType<typeof sealWebhookSecret>['dataKey']): Promise<void> => {
    await producer.send(topics.subscriptionKeys, [{ key: dataKey.keyRef, value: subscriptionDataKeyCodec.encode(dataKey) }]);
  };

  const produce = async (event: SubscriptionEvent): Promise<void> => {
    await producer.send(topics.subscriptionEvents, [
      { key: event.key, value: subscriptionEventCodec.encode(event), headers: { 'event-type': event.type } },
    ]);
  };

  return async (app) => {
    app.post(
      '/v1/subscriptions',
      {
        schema: {
          summary: 'Subscribe an endpoint to notifications (signed POSTs; see docs/webhooks.md)',
          tags: ['notifications'],
          body: CreateSubscriptionBody,
          headers: IdempotencyHeaders,
          response: { 201: SubscriptionResponse, '4xx': Problem },
        },
      },
      async (request, reply) => {
        // Auditors only read, through the API and under their own key: no webhook pushes data to a URL of theirs.
        if (request.principal.kind === 'auditor')
          throw new HttpProblem('forbidden', 'auditors read through the API; they cannot subscribe webhooks');
        const { url, events } = request.body;
        const parsed = new URL(url);
        if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
          throw new HttpProblem('validation-failed', 'body/url: only http and https endpoints can be subscribed');
        if (parsed.username || parsed.password) throw new HttpProblem('validation-failed', 'body/url: credentials in the URL are not accepted');
        if (!context.allowPrivateTargets) await assertPublicTarget(parsed);
        const owner = { kind: request.principal.kind, id: request.principal.id };
        // With an Idempotency-Key, a retry maps to the same subscription and gets the first answer, less the
        // secret: it was shown once and is kept sealed (a caller that lost it rotates it).
        const idempotencyKey = request.headers['idempotency-key'];
        const id = idempotencyKey ? deterministicUuid(`subscription:${owner.kind}:${owner.id}:${idempotencyKey}`) : randomUUID();
        if (idempotencyKey) {
          const existing = await readModel.subscriptionById(redis, id);
          if (existing) {
            if (existing.url !== url || JSON.stringify(existing.events) !== JSON.stringify(events))
              throw new HttpProblem('idempotency-key-reused', `subscription ${id} was created with this Idempotency-Key and another request body`);
            return reply.code(201).header('location', `/v1/subscriptions/${id}`).header('idempotent-replayed', 'true').send(render(existing));
          }
        }
        // The cap is checked and a place taken in one step (a Lua script), so concurrent creations on any number
        // of gateways cannot slip past it while the first ones are still being projected.
        if (!(await readModel.reserveSubscription(redis, owner, id, context.maxSubscriptionsPerPrincipal, RESERVATION_TTL_MS)))
          throw new HttpProblem('subscription-limit-reached', `at most ${context.maxSubscriptionsPerPrincipal} subscriptions per principal`);
        // A secret the subscriber chose is still accepted (v1 API); otherwise the server makes one and shows it once.
        const generated = request.body.secret === undefined;
        const secret = request.body.secret ?? generateWebhookSecret();
        const { dataKey, sealedSecret } = sealWebhookSecret(context.secretsKey, id, secret, request.receivedAt);
        let visible = false;
        try {
          await produceDataKey(dataKey);
          await produce({
            ...envelope(request, id),
            type: 'subscription.created',
            version: 2,
            data: { subscriptionId: id, owner, url, events, sealedSecret, createdByKeyId: request.principal.keyId, createdAt: request.receivedAt },
          });
          visible = await until(async () => (await readModel.subscriptionById(redis, id)) !== null);
        } catch (error) {
          // Not produced (or not known to be): give the place back; if it was produced after all, the index counts it.
          await readModel.releaseSubscriptionReservation(redis, owner, id).catch(() => undefined);
          throw error;
        }
        // Projected: it counts in the index now. Not yet: the reservation holds its place until it lapses.
        if (visible) await readModel.releaseSubscriptionReservation(redis, owner, id);
        return reply
          .code(201)
          .header('location', `/v1/subscriptions/${id}`)
          .header('cache-control', 'no-store')
          .send({ id, url, events, createdAt: request.receivedAt, ...(generated ? { secret } : {}) });
      },
    );

    app.get(
      '/v1/subscriptions',
      { schema: { summary: 'My subscriptions', tags: ['notifications'], response: { 200: SubscriptionList, '4xx': Problem } } },
      async (request) => {
        const items = await readModel.subscriptionsOf(redis, { kind: request.principal.kind, id: request.principal.id });
        return { items: items.map(render) };
      },
    );

    app.get(
      '/v1/subscriptions/:id',
      {
        schema: {
          summary: 'One of my subscriptions',
          tags: ['notifications'],
          params: SubscriptionParams,
          response: { 200: SubscriptionResponse, '4xx': Problem },
        },
      },
      async (request) => render(await own(request, request.params.id)),
    );

    app.delete(
      '/v1/subscriptions/:id',
      {
        schema: {
          summary: 'Unsubscribe',
          tags: ['notifications'],
          params: SubscriptionParams,
          response: { 204: Type.Null(), '4xx': Problem },
        },
      },
      async (request, reply) => {
        const view = await own(request, request.params.id);
        const keyRefs = await readModel.secretKeyRefsOf(redis, view.id);
        await produce({
          ...envelope(request, view.id),
          type: 'subscription.deleted',
          version: 1,
          data: { subscriptionId: view.id, owner: view.owner, deletedAt: request.receivedAt },
        });
        // Crypto-shredding: tombstone every data key of its secrets; once compacted, no copy of
        // subscription.events (kept forever) can be opened to recover them.
        if (keyRefs.length > 0) await producer.send(topics.subscriptionKeys, keyRefs.map((ref) => ({ key: ref, value: null })));
        await until(async () => (await readModel.subscriptionById(redis, view.id)) === null);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/v1/subscriptions/:id/secret-rotation',
      {
        schema: {
          summary: 'Replace the secret; the previous one keeps signing too for overlapSeconds (default one day)',
          tags: ['notifications'],
          params: SubscriptionParams,
          body: RotateSecretBody,
          response: { 200: SecretRotated, '4xx': Problem },
        },
      },
      async (request, reply) => {
        const view = await own(request, request.params.id);
        const overlapSeconds = request.body.overlapSeconds ?? 86_400;
        const secret = generateWebhookSecret();
        const { dataKey, sealedSecret } = sealWebhookSecret(context.secretsKey, view.id, secret, request.receivedAt);
        const previousSecretExpiresAt = new Date(Date.parse(request.receivedAt) + overlapSeconds * 1000).toISOString();
        await produceDataKey(dataKey);
        await produce({
          ...envelope(request, view.id),
          type: 'subscription.secret-rotated',
          version: 1,
          data: { subscriptionId: view.id, owner: view.owner, sealedSecret, rotatedAt: request.receivedAt, previousSecretExpiresAt },
        });
        await until(async () => (await readModel.secretKeyRefsOf(redis, view.id)).includes(dataKey.keyRef));
        return reply.header('cache-control', 'no-store').send({ id: view.id, secret, rotatedAt: request.receivedAt, previousSecretExpiresAt });
      },
    );

    app.get(
      '/v1/subscriptions/:id/deliveries',
      {
        schema: {
          summary: 'Deliveries of a subscription, newest first, with their attempts (status=dead-lettered for the dead letters)',
          tags: ['notifications'],
          params: SubscriptionParams,
          querystring: ListDeliveriesQuery,
          response: { 200: DeliveryList, '4xx': Problem },
        },
      },
      async (request) => {
        const view = await own(request, request.params.id);
        const { status, limit } = request.query;
        const items = await readModel.deliveriesOf(redis, view.id, { limit: limit ? Number(limit) : 50, ...(status ? { status } : {}) });
        return { items };
      },
    );

    app.post(
      '/v1/subscriptions/:id/deliveries/:deliveryId/redelivery',
      {
        schema: {
          summary: 'Send a delivery again (a new round of attempts, same delivery id); a pending one just goes on',
          tags: ['notifications'],
          params: DeliveryParams,
          response: { 202: RedeliveryAccepted, '4xx': Problem },
        },
      },
      async (request, reply) => {
        const view = await own(request, request.params.id);
        const delivery = await readModel.deliveryById(redis, view.id, request.params.deliveryId);
        if (!delivery || delivery.subscriptionId !== view.id)
          throw new HttpProblem('not-found', `no delivery ${request.params.deliveryId} for subscription ${view.id}`);
        const requestId = randomUUID();
        const record: DeliveryRecordOf<'delivery.redelivery-requested'> = {
          ...envelope(request, view.id),
          type: 'delivery.redelivery-requested',
          version: 1,
          data: { deliveryId: delivery.deliveryId, subscriptionId: view.id, requestId, requestedAt: request.receivedAt },
        };
        await producer.send(topics.deliveries, [
          { key: view.id, value: deliveryRecordCodec.encode(record), headers: { 'event-type': record.type } },
        ]);
        return reply.code(202).send({ deliveryId: delivery.deliveryId, requestId, status: 'redelivery-requested' as const });
      },
    );
  };
}
