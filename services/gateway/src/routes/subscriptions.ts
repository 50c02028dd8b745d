import { randomUUID } from 'node:crypto';
import {
  deterministicUuid,
  deliveryRecordCodec,
  subscriptionEventCodec,
  type DeliveryRecordOf,
  type NotificationTopicNames,
  type SubscriptionEvent,
} from '@consult/contracts';
import type { BatchingProducer } from '@consult/kafka';
import type { NotificationReadModel, SubscriptionView } from '@consult/read-models';
import type { Redis } from '@consult/redis';
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
  SubscriptionList,
  SubscriptionParams,
  SubscriptionResponse,
} from './subscription-schemas.js';

export interface SubscriptionRoutesContext {
  redis: Redis;
  producer: BatchingProducer;
  readModel: NotificationReadModel;
  topics: NotificationTopicNames;
  /** How long a change waits to become visible in the read model before it is answered anyway. */
  visibleTimeoutMs: number;
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
        const { url, events, secret } = request.body;
        const parsed = new URL(url);
        if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
          throw new HttpProblem('validation-failed', 'body/url: only http and https endpoints can be subscribed');
        if (parsed.username || parsed.password) throw new HttpProblem('validation-failed', 'body/url: credentials in the URL are not accepted');
        const owner = { kind: request.principal.kind, id: request.principal.id };
        // With an Idempotency-Key, a retry maps to the same subscription and gets the first answer.
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
        await produce({
          ...envelope(request, id),
          type: 'subscription.created',
          version: 1,
          data: { subscriptionId: id, owner, url, events, secret, createdAt: request.receivedAt },
        });
        await until(async () => (await readModel.subscriptionById(redis, id)) !== null);
        return reply
          .code(201)
          .header('location', `/v1/subscriptions/${id}`)
          .send({ id, url, events, createdAt: request.receivedAt });
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
        await produce({
          ...envelope(request, view.id),
          type: 'subscription.deleted',
          version: 1,
          data: { subscriptionId: view.id, owner: view.owner, deletedAt: request.receivedAt },
        });
        await until(async () => (await readModel.subscriptionById(redis, view.id)) === null);
        return reply.code(204).send(null);
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
        const delivery = await readModel.deliveryById(redis, request.params.deliveryId);
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
