import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_KEYS } from '@consult/admin';
import {
  DEVELOPMENT_WEBHOOK_SECRETS_KEY,
  generateWebhookSecret,
  notificationTopicNames,
  sealWebhookSecret,
  subscriptionDataKeyCodec,
  subscriptionEventCodec,
  type SubscriptionEvent,
} from '@consult/contracts';
import { BatchingProducer } from '@consult/kafka';
import { consultationInput, Stack } from '../support/stack.js';

/** SSRF: a stack as production runs it, with ALLOW_PRIVATE_WEBHOOK_TARGETS off on the gateway and the notifier. */
describe('webhook targets on a production-like stack', () => {
  let stack: Stack;
  let server: Server;
  let port = 0;
  let hits = 0;
  beforeAll(async () => {
    stack = await new Stack({ allowPrivateWebhookTargets: false }).start();
    server = createServer((req, res) => {
      hits++;
      req.resume();
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await stack?.stop();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  const subscribe = async (url: string) => {
    const response = await fetch(`${stack.baseUrl}/v1/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEV_KEYS.KHM.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url, events: ['consultation.opened'] }),
    });
    return { status: response.status, body: (await response.json()) as { code?: string; detail?: string } };
  };

  it('refuses to subscribe loopback, private, link-local and metadata addresses, however spelled', async () => {
    const internal = [
      'http://127.0.0.1:6379/',
      'http://169.254.169.254/latest/meta-data/',
      'http://0x7f.1/',
      'http://2130706433/',
      'http://0177.0.0.1:8080/',
      'http://10.1.2.3/hook',
      'http://192.168.0.10/',
      'http://172.20.0.1/',
      'http://100.64.0.1/',
      'http://0.0.0.0:8080/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[fd00:ec2::254]/',
      'http://[fe80::1]/',
      'http://localhost:8080/',
      'https://api.localhost/',
      `http://127.0.0.1:${port}/hook`,
    ];
    for (const url of internal) {
      const answer = await subscribe(url);
      expect(answer.status, url).toBe(400);
      expect(answer.body.code, url).toBe('webhook-target-forbidden');
    }
    // Nothing was subscribed.
    const list = await fetch(`${stack.baseUrl}/v1/subscriptions`, { headers: { authorization: `Bearer ${DEV_KEYS.KHM.secret}` } });
    expect(((await list.json()) as { items: unknown[] }).items).toEqual([]);
  });

  it('refuses at delivery time a target that became internal after subscribing (DNS rebinding), sending nothing', async () => {
    // As if the gateway had accepted the URL while its name still resolved to a public address: the
    // subscription is in Kafka, and now its target is 127.0.0.1.
    const topics = notificationTopicNames(stack.topics);
    const producer = new BatchingProducer(stack.kafka, stack.logger);
    await producer.connect();
    const id = randomUUID();
    const now = new Date().toISOString();
    const { dataKey, sealedSecret } = sealWebhookSecret(DEVELOPMENT_WEBHOOK_SECRETS_KEY, id, generateWebhookSecret(), now);
    const event: SubscriptionEvent = {
      id: randomUUID(),
      source: 'test',
      type: 'subscription.created',
      version: 2,
      occurredAt: now,
      key: id,
      correlationId: randomUUID(),
      causationId: null,
      actor: { kind: 'secretariat', id: 'secretariat' },
      data: { subscriptionId: id, owner: { kind: 'secretariat', id: 'secretariat' }, url: `http://127.0.0.1:${port}/rebound`, events: ['consultation.opened'], sealedSecret, createdAt: now },
    };
    await producer.send(topics.subscriptionKeys, [{ key: dataKey.keyRef, value: subscriptionDataKeyCodec.encode(dataKey) }]);
    await producer.send(topics.subscriptionEvents, [{ key: id, value: subscriptionEventCodec.encode(event) }]);
    await producer.close();
    const deliveries = async () => {
      const r = await fetch(`${stack.baseUrl}/v1/subscriptions/${id}/deliveries`, { headers: { authorization: `Bearer ${DEV_KEYS.secretariat.secret}` } });
      return r.status === 200 ? ((await r.json()) as { items: { attempts: { error?: string; statusCode?: number }[] }[] }).items : [];
    };
    await stack.until(async () => (await deliveries()).length === 0 && (await fetch(`${stack.baseUrl}/v1/subscriptions/${id}`, { headers: { authorization: `Bearer ${DEV_KEYS.secretariat.secret}` } })).status === 200, 10_000, 'the subscription');

    const before = hits;
    expect((await stack.client('secretariat').createConsultation(consultationInput({ addressees: ['KHM'] }))).status).toBe(201);
    await stack.until(async () => ((await deliveries())[0]?.attempts.length ?? 0) >= 1, 15_000, 'a refused attempt');
    const [attempt] = (await deliveries())[0]!.attempts;
    expect(attempt!.statusCode).toBeUndefined();
    expect(attempt!.error).toMatch(/^WebhookTargetRefused: 127\.0\.0\.1 is a loopback address/);
    expect(hits).toBe(before);
  });
});
