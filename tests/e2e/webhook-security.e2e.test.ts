import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_KEYS } from '@consult/admin';
import { notificationTopicNames } from '@consult/contracts';
import { readToEnd } from '@consult/kafka';
import { verifySignature } from '@consult/notifier';
import { consultationInput, Stack, type DevKeyName } from '../support/stack.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  key: string;
}

const docs = readFileSync(new URL('../../docs/webhooks.md', import.meta.url), 'utf8');
/** The code block of docs/webhooks.md that starts with this comment line, exactly as published. */
function snippet(language: string, firstLine: string): string {
  const blocks = [...docs.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
  const block = blocks.find((b) => b.startsWith(firstLine));
  if (!block) throw new Error(`docs/webhooks.md has no ${language} block starting with ${firstLine}`);
  return block;
}

describe('webhooks by the Standard Webhooks specification', () => {
  let stack: Stack;
  let server: Server;
  let base = '';
  const received: Received[] = [];
  beforeAll(async () => {
    stack = await new Stack().start();
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        received.push({ path: req.url ?? '/', headers: req.headers, body, key: (JSON.parse(body) as { event: { key: string } }).event.key });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await stack?.stop();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  async function api<T = Record<string, unknown>>(name: DevKeyName, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${stack.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${DEV_KEYS[name].secret}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
  }

  /** Opens a consultation addressed to THA and waits for its `opened` delivery on this path. */
  async function opened(path: string): Promise<Received> {
    const created = await stack.client('secretariat').createConsultation(consultationInput({ addressees: ['THA'] }));
    expect(created.status).toBe(201);
    await stack.until(async () => received.some((r) => r.path === path && r.key === created.body.id), 15_000, `delivery to ${path}`);
    return received.find((r) => r.path === path && r.key === created.body.id)!;
  }

  const headersOf = (r: Received) => ({
    'webhook-id': r.headers['webhook-id'] as string,
    'webhook-timestamp': r.headers['webhook-timestamp'] as string,
    'webhook-signature': r.headers['webhook-signature'] as string,
  });

  it('makes the secret (whsec_, 32 random bytes), shows it once, and signs deliveries the reference library verifies', async () => {
    const created = await api<{ id: string; secret: string }>('THA', 'POST', '/v1/subscriptions', { url: `${base}/std`, events: ['consultation.opened'] });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(created.body.secret.slice(6), 'base64')).toHaveLength(32);
    expect(await api('THA', 'GET', `/v1/subscriptions/${created.body.id}`).then((r) => r.body)).not.toHaveProperty('secret');
    expect(JSON.stringify(await api('THA', 'GET', '/v1/subscriptions'))).not.toContain(created.body.secret);
    // A retry with the same Idempotency-Key gets the first answer, less the secret shown once.
    const key = randomUUID();
    const once = await fetch(`${stack.baseUrl}/v1/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEV_KEYS.THA.secret}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ url: `${base}/std-idem`, events: ['consultation.closed'] }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { id: string; secret?: string } }));
    const again = await fetch(`${stack.baseUrl}/v1/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEV_KEYS.THA.secret}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ url: `${base}/std-idem`, events: ['consultation.closed'] }),
    }).then(async (r) => ({ status: r.status, replayed: r.headers.get('idempotent-replayed'), body: (await r.json()) as { id: string; secret?: string } }));
    expect(once.body.secret).toMatch(/^whsec_/);
    expect(again).toMatchObject({ status: 201, replayed: 'true', body: { id: once.body.id } });
    expect(again.body).not.toHaveProperty('secret');

    const got = await opened('/std');
    const headers = headersOf(got);
    expect(headers['webhook-id']).toBe((JSON.parse(got.body) as { deliveryId: string }).deliveryId);
    expect(headers['webhook-id']).toBe(got.headers['x-delivery-id']);
    expect(Math.abs(Number(headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(created.body.secret).verify(got.body, headers)).toMatchObject({ type: 'consultation.opened' });
    // The id is signed: a receiver that deduplicates on it cannot be fed a forged one.
    expect(() => new Webhook(created.body.secret).verify(got.body, { ...headers, 'webhook-id': randomUUID() })).toThrow();
    // The first version's header is still there, keyed with the secret as text.
    expect(verifySignature(created.body.secret, got.body, got.headers['x-signature'] as string)).toBe(true);
  });

  it('verifies deliveries with the Node and Python snippets of docs/webhooks.md, as published', async () => {
    const created = await api<{ id: string; secret: string }>('THA', 'POST', '/v1/subscriptions', { url: `${base}/docs`, events: ['consultation.opened'] });
    const got = await opened('/docs');
    const dir = mkdtempSync(join(tmpdir(), 'webhook-docs-'));
    writeFileSync(join(dir, 'verify-webhook.mjs'), snippet('js', '// verify-webhook.mjs'));
    const { verifyWebhook } = (await import(pathToFileURL(join(dir, 'verify-webhook.mjs')).href)) as {
      verifyWebhook: (secret: string, headers: Record<string, string>, body: string) => boolean;
    };
    writeFileSync(
      join(dir, 'check.py'),
      `${snippet('python', '# verify_webhook.py')}\nimport json, sys\ncase = json.load(sys.stdin)\nprint(json.dumps(verify_webhook(case["secret"], case["headers"], case["body"].encode("utf-8"))))\n`,
    );
    const python = (secret: string, headers: Record<string, string>, body: string): boolean =>
      JSON.parse(execFileSync('python3', [join(dir, 'check.py')], { input: JSON.stringify({ secret, headers, body }) }).toString()) as boolean;

    const headers = headersOf(got);
    const other = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    const cases: [string, string, Record<string, string>, string, boolean][] = [
      ['genuine', created.body.secret, headers, got.body, true],
      ['another secret', other, headers, got.body, false],
      ['altered body', created.body.secret, headers, got.body.replace('consultation.opened', 'consultation.closed'), false],
      ['forged id', created.body.secret, { ...headers, 'webhook-id': 'msg_forged' }, got.body, false],
      ['replayed an hour later', created.body.secret, { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) - 3600) }, got.body, false],
    ];
    for (const [what, secret, h, body, expected] of cases) {
      expect(verifyWebhook(secret, h, body), `node: ${what}`).toBe(expected);
      expect(python(secret, h, body), `python: ${what}`).toBe(expected);
    }
  });

  it('rotates a secret: both sign during the overlap, only the new one after it', async () => {
    const created = await api<{ id: string; secret: string }>('THA', 'POST', '/v1/subscriptions', { url: `${base}/rot`, events: ['consultation.opened'] });
    const rotated = await api<{ id: string; secret: string; previousSecretExpiresAt: string; rotatedAt: string }>('THA', 'POST', `/v1/subscriptions/${created.body.id}/secret-rotation`, { overlapSeconds: 3600 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    expect(Date.parse(rotated.body.previousSecretExpiresAt) - Date.parse(rotated.body.rotatedAt)).toBe(3_600_000);
    const during = await opened('/rot');
    expect(headersOf(during)['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(rotated.body.secret).verify(during.body, headersOf(during))).toBeTruthy();
    expect(new Webhook(created.body.secret).verify(during.body, headersOf(during))).toBeTruthy();
    expect(verifySignature(created.body.secret, during.body, during.headers['x-signature'] as string)).toBe(true);

    // No overlap: the previous secret stops signing at once.
    const again = await api<{ secret: string }>('THA', 'POST', `/v1/subscriptions/${created.body.id}/secret-rotation`, { overlapSeconds: 0 });
    const after = await opened('/rot');
    expect(headersOf(after)['webhook-signature'].split(' ')).toHaveLength(1);
    expect(new Webhook(again.body.secret).verify(after.body, headersOf(after))).toBeTruthy();
    expect(() => new Webhook(rotated.body.secret).verify(after.body, headersOf(after))).toThrow();
    expect((await api('KHM', 'POST', `/v1/subscriptions/${created.body.id}/secret-rotation`, {})).status).toBe(404);
  });

  it('keeps secrets encrypted in Kafka and makes them unrecoverable when the subscription is deleted', async () => {
    const chosen = `my-own-secret-${randomUUID()}`;
    const mine = await api<{ id: string }>('THA', 'POST', '/v1/subscriptions', { url: `${base}/rest`, events: ['consultation.opened'], secret: chosen });
    expect(mine.status).toBe(201);
    expect(mine.body).not.toHaveProperty('secret');
    const made = await api<{ id: string; secret: string }>('THA', 'POST', '/v1/subscriptions', { url: `${base}/rest2`, events: ['consultation.opened'] });
    const topics = notificationTopicNames(stack.topics);
    const raw = async (topic: string) => {
      const values: { key: string; value: string | null }[] = [];
      await readToEnd(stack.kafka, { topic, logger: stack.logger, onBatch: (_p, ms) => { for (const m of ms) values.push({ key: m.key?.toString() ?? '', value: m.value?.toString() ?? null }); } });
      return values;
    };
    const events = (await raw(topics.subscriptionEvents)).map((v) => v.value ?? '').join('\n');
    const keys = await raw(topics.subscriptionKeys);
    const allBytes = `${events}\n${keys.map((k) => k.value ?? '').join('\n')}`;
    for (const secret of [chosen, made.body.secret, made.body.secret.slice(6), Buffer.from(made.body.secret.slice(6), 'base64').toString('hex')])
      expect(allBytes).not.toContain(secret);
    expect(events).toContain('"sealedSecret"');

    const refsOf = (id: string) => keys.filter((k) => k.key.startsWith(`${id}.`)).map((k) => k.key);
    const [ref] = refsOf(made.body.id);
    expect(ref).toBeDefined();
    expect(await stack.notifier!.dataKeys.get(ref!, 0)).not.toBeNull();
    expect((await api('THA', 'DELETE', `/v1/subscriptions/${made.body.id}`)).status).toBe(204);
    // A tombstone destroys the data key; the notifier has forgotten it already.
    const after = (await raw(topics.subscriptionKeys)).filter((k) => k.key === ref);
    expect(after.at(-1)?.value).toBeNull();
    await stack.until(async () => (await stack.notifier!.dataKeys.get(ref!, 0)) === null, 5_000, 'the data key forgotten');
  });

  it('references a large comment from its delivery requests instead of copying it to every subscription', async () => {
    for (const path of ['/big1', '/big2', '/big3'])
      expect((await api('secretariat', 'POST', '/v1/subscriptions', { url: `${base}${path}`, events: ['consultation.comment-submitted'] })).status).toBe(201);
    const created = await stack.client('secretariat').createConsultation(consultationInput({ addressees: ['THA'] }));
    const body = 'ä'.repeat(60_000); // 120 kB of UTF-8: above what a request may embed
    expect((await stack.client('THA').postComment(created.body.id, { body, language: 'en' }, randomUUID())).status).toBe(201);
    await stack.until(async () => ['/big1', '/big2', '/big3'].every((p) => received.some((r) => r.path === p && r.key === created.body.id)), 15_000, 'three deliveries');
    for (const path of ['/big1', '/big2', '/big3']) {
      const got = received.find((r) => r.path === path && r.key === created.body.id)!;
      expect((JSON.parse(got.body) as { event: { data: { body: string } } }).event.data.body).toBe(body);
    }
    const requests: string[] = [];
    await readToEnd(stack.kafka, {
      topic: notificationTopicNames(stack.topics).deliveries,
      logger: stack.logger,
      onBatch: (_p, ms) => {
        for (const m of ms) if (m.value && m.value.toString().includes('"delivery.requested"') && m.value.toString().includes(created.body.id)) requests.push(m.value.toString());
      },
    });
    const forComment = requests.filter((r) => r.includes('consultation.comment-submitted'));
    expect(forComment).toHaveLength(3);
    for (const r of forComment) {
      expect(r.length).toBeLessThan(2_000);
      expect(JSON.parse(r)).toMatchObject({ version: 2, data: { eventRef: { consultationId: created.body.id, sequence: 2 } } });
    }
  });

  it('references a large statement from its delivery requests, as for comments', async () => {
    for (const path of ['/stmt1', '/stmt2', '/stmt3'])
      expect((await api('secretariat', 'POST', '/v1/subscriptions', { url: `${base}${path}`, events: ['cso.statement-submitted'] })).status).toBe(201);
    const cso = await api('secretariat', 'POST', '/v1/csos', {
      name: 'Large Statements Forum',
      linkBody: 'Standing Committee',
      accreditedUntil: new Date(Date.now() + 365 * 86_400_000).toISOString(),
      contact: { name: 'C', email: 'c@example.org' },
    });
    expect(cso.status).toBe(201);
    const body = 'ä'.repeat(100_000); // the longest statement body: 200 kB of UTF-8
    const submitted = await fetch(`${stack.baseUrl}/v1/cso-statements`, {
      method: 'POST',
      headers: { authorization: `Bearer ${String(cso.body.apiKey)}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ subject: 'Water', body, language: 'en' }),
    });
    expect(submitted.status).toBe(201);
    const statementId = ((await submitted.json()) as { statementId: string }).statementId;
    const deliveredTo = (path: string) =>
      received.find((r) => r.path === path && (JSON.parse(r.body) as { event: { data: { statementId?: string } } }).event.data.statementId === statementId);
    await stack.until(async () => ['/stmt1', '/stmt2', '/stmt3'].every((p) => deliveredTo(p)), 15_000, 'three deliveries');
    for (const path of ['/stmt1', '/stmt2', '/stmt3'])
      expect((JSON.parse(deliveredTo(path)!.body) as { event: { data: { body: string } } }).event.data.body).toBe(body);
    const requests: string[] = [];
    await readToEnd(stack.kafka, {
      topic: notificationTopicNames(stack.topics).deliveries,
      logger: stack.logger,
      onBatch: (_p, ms) => {
        for (const m of ms) if (m.value && m.value.toString().includes('"delivery.requested"') && m.value.toString().includes(statementId)) requests.push(m.value.toString());
      },
    });
    const forStatement = requests.filter((r) => r.includes('cso.statement-submitted'));
    // Three for the secretariat's subscriptions (the organisation has none).
    expect(forStatement).toHaveLength(3);
    for (const r of forStatement) {
      expect(r.length).toBeLessThan(2_000);
      expect(JSON.parse(r)).toMatchObject({ version: 3, data: { statementId, eventRef: { csoId: cso.body.id, sequence: expect.any(Number) } } });
    }
  });

  it('caps the subscriptions of a principal (409 subscription-limit-reached)', async () => {
    const capped = await stack.startGateway({ maxSubscriptionsPerPrincipal: 2 });
    const url = stack.baseUrls[stack.gateways.indexOf(capped)]!;
    const subscribe = (name: DevKeyName) =>
      fetch(`${url}/v1/subscriptions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEV_KEYS[name].secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: `${base}/cap`, events: ['consultation.closed'] }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code?: string; id?: string } }));
    expect((await subscribe('committee')).status).toBe(201);
    const second = await subscribe('committee');
    expect(second.status).toBe(201);
    const third = await subscribe('committee');
    expect(third.status).toBe(409);
    expect(third.body.code).toBe('subscription-limit-reached');
    expect((await subscribe('KAZ')).status).toBe(201);
    expect((await api('committee', 'DELETE', `/v1/subscriptions/${second.body.id!}`)).status).toBe(204);
    expect((await subscribe('committee')).status).toBe(201);
  });

  it('holds the subscription cap under concurrent creations on several gateways', async () => {
    const gateways = [await stack.startGateway({ maxSubscriptionsPerPrincipal: 3 }), await stack.startGateway({ maxSubscriptionsPerPrincipal: 3 })];
    const urls = gateways.map((g) => stack.baseUrls[stack.gateways.indexOf(g)]!);
    const key = await stack.issueKey({ kind: 'member-state', id: 'LAO', name: 'Lao PDR' });
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        fetch(`${urls[i % 2]!}/v1/subscriptions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ url: `${base}/race-${i}`, events: ['consultation.closed'] }),
        }).then(async (r) => ({ status: r.status, code: ((await r.json()) as { code?: string }).code })),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(3);
    expect(answers.filter((a) => a.status === 409 && a.code === 'subscription-limit-reached')).toHaveLength(9);
    const listed = await fetch(`${urls[0]!}/v1/subscriptions`, { headers: { authorization: `Bearer ${key.secret}` } });
    expect(((await listed.json()) as { items: unknown[] }).items).toHaveLength(3);
  });
});
