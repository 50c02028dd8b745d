import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_KEYS, knownKeys, revokeKey, rotateKey } from '@consult/admin';
import { BatchingProducer } from '@consult/kafka';
import { consultationInput, futureIso, Stack } from '../support/stack.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * API keys that bite: revocation at once on every gateway (not at a cache expiry: the cache here lives five
 * minutes), expiry, rotation with an overlap, development keys refused in production.
 */
describe('API keys and revocation', () => {
  let stack: Stack;
  let producer: BatchingProducer;
  let server: Server;
  let base = '';
  const hooks: { path: string; key: string }[] = [];
  beforeAll(async () => {
    stack = await new Stack({ gatewayOptions: { authCacheTtlMs: 300_000 } }).start(2);
    producer = new BatchingProducer(stack.kafka, stack.logger);
    await producer.connect();
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        hooks.push({ path: req.url ?? '/', key: (JSON.parse(Buffer.concat(chunks).toString()) as { event: { key: string } }).event.key });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await producer?.close();
    await stack?.stop();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  const call = async (secret: string, method: string, path: string, body?: unknown, gateway = 0, headers: Record<string, string> = {}) => {
    const response = await fetch(`${stack.baseUrls[gateway]}${path}`, {
      method,
      headers: { authorization: `Bearer ${secret}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
  };

  it('revokes a key at once on every gateway, closes its event streams and stops deliveries it subscribed', async () => {
    const key = await stack.issueKey({ kind: 'member-state', id: 'MNG', name: 'Mongolia' });
    // Both gateways have the key in their five-minute caches.
    for (const g of [0, 1]) expect((await call(key.secret, 'GET', '/v1/consultations', undefined, g)).status).toBe(200);
    const sub = await call(key.secret, 'POST', '/v1/subscriptions', { url: `${base}/revoked`, events: ['consultation.opened'] });
    expect(sub.status).toBe(201);
    // The same member state's other key keeps its own subscription.
    expect((await call(DEV_KEYS.MNG.secret, 'POST', '/v1/subscriptions', { url: `${base}/kept`, events: ['consultation.opened'] })).status).toBe(201);
    const stream = await fetch(`${stack.baseUrls[1]}/v1/events`, { headers: { authorization: `Bearer ${key.secret}` } });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    await reader.read(); // the "connected" comment
    const ended = (async () => {
      for (;;) if ((await reader.read()).done) return true;
    })();

    const known = (await knownKeys(stack.kafka, stack.topics, stack.logger)).get(key.keyId);
    expect(known?.principal).toMatchObject({ kind: 'member-state', id: 'MNG' });
    const revokedAt = Date.now();
    await revokeKey(producer, stack.topics, known!, 'laptop stolen');
    await stack.until(async () => (await call(key.secret, 'GET', '/v1/consultations', undefined, 0)).status === 401, 5_000, 'gateway 0 to refuse');
    await stack.until(async () => (await call(key.secret, 'GET', '/v1/consultations', undefined, 1)).status === 401, 5_000, 'gateway 1 to refuse');
    expect(Date.now() - revokedAt).toBeLessThan(5_000);
    expect((await call(key.secret, 'GET', '/v1/consultations')).body).toMatchObject({ code: 'unauthorized', detail: expect.stringMatching(/revoked/) });
    expect(await Promise.race([ended, sleep(5_000).then(() => false)])).toBe(true);

    const created = await stack.client('secretariat').createConsultation(consultationInput({ addressees: ['MNG'] }));
    const id = created.body.id;
    await stack.until(async () => hooks.some((h) => h.path === '/kept' && h.key === id), 15_000, 'the kept subscription');
    await sleep(500);
    expect(hooks.filter((h) => h.path === '/revoked')).toEqual([]);
  });

  it('answers a revoked CSO posting a statement 403 cso-not-accredited, and 401 elsewhere', async () => {
    const secretariat = DEV_KEYS.secretariat.secret;
    const cso = await call(secretariat, 'POST', '/v1/csos', {
      name: 'Mekong Delta Forum',
      linkBody: 'Standing Committee',
      accreditedUntil: futureIso(365 * 86_400_000),
      contact: { name: 'A. Contact', email: 'contact@example.org' },
    });
    expect(cso.status).toBe(201);
    const apiKey = cso.body.apiKey as string;
    const statement = (key: string) => call(apiKey, 'POST', '/v1/cso-statements', { subject: 'Water', body: 'We recommend a monitoring body.', language: 'en' }, 0, { 'idempotency-key': key });
    expect((await statement('before')).status).toBe(201);
    expect((await call(secretariat, 'POST', `/v1/csos/${cso.body.id as string}/revocation`, { reason: 'Breach of the code of conduct' })).status).toBe(200);
    await stack.until(async () => (await call(apiKey, 'GET', `/v1/csos/${cso.body.id as string}`)).status === 401, 5_000, 'the CSO key to stop working');
    const refused = await statement('after');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'cso-not-accredited', detail: expect.stringMatching(/revoked/) });
    expect((await call(apiKey, 'GET', '/v1/cso-statements', undefined, 1)).status).toBe(401);
  });

  it('answers an accredited CSO whose key expired or alone was revoked 401 where it submits: its accreditation stands', async () => {
    const cso = await call(DEV_KEYS.secretariat.secret, 'POST', '/v1/csos', {
      name: 'Aral Sea Network',
      linkBody: 'Standing Committee',
      accreditedUntil: futureIso(365 * 86_400_000),
      contact: { name: 'A. Contact', email: 'contact@example.org' },
    });
    expect(cso.status).toBe(201);
    const expiresAt = futureIso(2_000);
    const extra = await stack.issueKey({ kind: 'cso', id: cso.body.id as string, expiresAt });
    await sleep(Date.parse(expiresAt) - Date.now() + 100);
    const refused = await call(extra.secret, 'POST', '/v1/cso-statements', { subject: 'Water', body: 'B', language: 'en' }, 0, { 'idempotency-key': randomUUID() });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 'unauthorized', detail: expect.stringMatching(/expired/) });
    // A key revoked on its own (say it leaked) while the accreditation stands: 401 too, saying so.
    const leaked = await stack.issueKey({ kind: 'cso', id: cso.body.id as string });
    const known = (await knownKeys(stack.kafka, stack.topics, stack.logger)).get(leaked.keyId)!;
    await revokeKey(producer, stack.topics, known, 'leaked');
    await stack.until(async () => (await call(leaked.secret, 'GET', '/v1/cso-statements')).status === 401, 5_000, 'the leaked key to stop working');
    const leakedAnswer = await call(leaked.secret, 'POST', '/v1/cso-statements', { subject: 'Water', body: 'B', language: 'en' }, 0, { 'idempotency-key': randomUUID() });
    expect(leakedAnswer.status).toBe(401);
    expect(leakedAnswer.body).toMatchObject({ code: 'unauthorized', detail: expect.stringMatching(/revoked/) });
    // Its accreditation's own key still submits.
    const ok = await call(cso.body.apiKey as string, 'POST', '/v1/cso-statements', { subject: 'Water', body: 'B', language: 'en' }, 0, { 'idempotency-key': randomUUID() });
    expect(ok.status).toBe(201);
  });

  /** An open `GET /v1/events` stream, and when (if ever) the gateway ended it. */
  const openStream = async (secret: string, gateway = 0) => {
    const controller = new AbortController();
    const response = await fetch(`${stack.baseUrls[gateway]}/v1/events`, { headers: { authorization: `Bearer ${secret}` }, signal: controller.signal });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    await reader.read(); // the "connected" comment
    let endedAt = 0;
    const ended = (async () => {
      try {
        for (;;) if ((await reader.read()).done) break;
      } catch {
        // aborted by the test
      }
      endedAt = Date.now();
      return endedAt;
    })();
    return { ended, endedAt: () => endedAt, close: () => controller.abort() };
  };

  it('lets keys expire, and rotates a key with an overlap in which both work', async () => {
    const old = await stack.issueKey({ kind: 'member-state', id: 'KAZ' });
    // A webhook made with the key that is about to be rotated, and a stream open with it.
    const sub = await call(old.secret, 'POST', '/v1/subscriptions', { url: `${base}/rotated`, events: ['consultation.opened'] });
    expect(sub.status).toBe(201);
    const oldStream = await openStream(old.secret, 0);
    const known = (await knownKeys(stack.kafka, stack.topics, stack.logger)).get(old.keyId)!;
    const { issued, oldExpiresAt } = await rotateKey(producer, stack.topics, known, 6);
    await stack.until(async () => (await call(issued.secret, 'GET', '/v1/consultations')).status === 200, 5_000, 'the new key');
    await stack.until(async () => (await stack.readModel.apiKeyRecord(stack.redis, known.keyHash))?.expiresAt === oldExpiresAt, 5_000, 'the expiry to be projected');
    // A key issued with an expiry, with a stream open on the other gateway.
    const expiresAt = Date.now() + 2_500;
    const expiring = await stack.issueKey({ kind: 'member-state', id: 'THA', expiresAt: new Date(expiresAt).toISOString() });
    const expiringStream = await openStream(expiring.secret, 1);
    expect(Date.parse(oldExpiresAt) - Date.now()).toBeGreaterThan(0);
    for (const g of [0, 1]) {
      expect((await call(old.secret, 'GET', '/v1/consultations', undefined, g)).status).toBe(200);
      expect((await call(expiring.secret, 'GET', '/v1/consultations', undefined, g)).status).toBe(200);
    }
    // Setting an expiry is not an expiry: the old key's stream stays open through the overlap.
    await sleep(500);
    expect(oldStream.endedAt(), 'the old key\'s stream was closed when the expiry was set').toBe(0);
    // The subscription belongs to the principal: the successor key sees it.
    expect((await call(issued.secret, 'GET', `/v1/subscriptions/${sub.body.id as string}`)).status).toBe(200);

    // A key's streams close when its expiry time passes.
    const expiringEnded = await Promise.race([expiringStream.ended, sleep(Math.max(0, expiresAt - Date.now()) + 3_000).then(() => 0)]);
    expect(expiringEnded, 'the expired key\'s stream is still open').toBeGreaterThan(0);
    expect(expiringEnded).toBeGreaterThanOrEqual(expiresAt - 250);
    const oldEnded = await Promise.race([oldStream.ended, sleep(Math.max(0, Date.parse(oldExpiresAt) - Date.now()) + 3_000).then(() => 0)]);
    expect(oldEnded, 'the rotated key\'s stream is still open after the overlap').toBeGreaterThan(0);
    expect(oldEnded).toBeGreaterThanOrEqual(Date.parse(oldExpiresAt) - 250);

    await sleep(Math.max(Date.parse(oldExpiresAt), expiresAt) - Date.now() + 100);
    for (const g of [0, 1]) {
      const expired = await call(expiring.secret, 'GET', '/v1/consultations', undefined, g);
      expect(expired.status).toBe(401);
      expect(expired.body.detail).toMatch(/expired/);
      expect((await call(old.secret, 'GET', '/v1/consultations', undefined, g)).status).toBe(401);
      expect((await call(issued.secret, 'GET', '/v1/consultations', undefined, g)).status).toBe(200);
    }
    // Rotation does not kill webhooks: deliveries to the subscription made with the old key continue.
    const created = await stack.client('secretariat').createConsultation(consultationInput({ addressees: ['KAZ'] }));
    await stack.until(async () => hooks.some((h) => h.path === '/rotated' && h.key === created.body.id), 15_000, 'a delivery after the overlap');
  });

  it('refuses the development keys on a gateway in production mode', async () => {
    const production = await stack.startGateway({ refuseDevelopmentKeys: true });
    const index = stack.gateways.indexOf(production);
    const dev = await call(DEV_KEYS.secretariat.secret, 'GET', '/v1/consultations', undefined, index);
    expect(dev.status).toBe(401);
    expect(dev.body.detail).toMatch(/development keys/);
    const real = await stack.issueKey({ kind: 'secretariat', id: 'secretariat' });
    expect((await call(real.secret, 'GET', '/v1/consultations', undefined, index)).status).toBe(200);
  });

  it('caps the open event streams of a principal (429 with Retry-After)', async () => {
    const capped = await stack.startGateway({ maxEventStreamsPerPrincipal: 2 });
    const url = stack.baseUrls[stack.gateways.indexOf(capped)]!;
    const open = async () => {
      const controller = new AbortController();
      const response = await fetch(`${url}/v1/events`, { headers: { authorization: `Bearer ${DEV_KEYS.KHM.secret}` }, signal: controller.signal });
      return { response, close: () => controller.abort() };
    };
    const first = await open();
    const second = await open();
    expect([first.response.status, second.response.status]).toEqual([200, 200]);
    const third = await open();
    expect(third.response.status).toBe(429);
    expect(third.response.headers.get('retry-after')).toBe('5');
    expect(((await third.response.json()) as { code: string }).code).toBe('event-stream-limit-reached');
    // Another principal is not affected; a closed stream frees its place.
    const other = await fetch(`${url}/v1/events`, { headers: { authorization: `Bearer ${DEV_KEYS.THA.secret}` }, signal: AbortSignal.timeout(2_000) }).catch(() => null);
    expect(other?.status).toBe(200);
    first.close();
    await stack.until(async () => {
      const again = await open();
      again.close();
      return again.response.status === 200;
    }, 5_000, 'a freed place');
    second.close();
  });

  it('counts the open event streams of a principal across gateways, not per gateway', async () => {
    const capped = [await stack.startGateway({ maxEventStreamsPerPrincipal: 2 }), await stack.startGateway({ maxEventStreamsPerPrincipal: 2 })];
    const [a, b] = capped.map((g) => stack.baseUrls[stack.gateways.indexOf(g)]!);
    const key = await stack.issueKey({ kind: 'member-state', id: 'KGZ', name: 'Kyrgyzstan' });
    const open = async (url: string) => {
      const controller = new AbortController();
      const response = await fetch(`${url}/v1/events`, { headers: { authorization: `Bearer ${key.secret}` }, signal: controller.signal });
      if (response.status !== 200) await response.arrayBuffer();
      return { response, close: () => controller.abort() };
    };
    const first = await open(a!);
    const second = await open(b!);
    expect([first.response.status, second.response.status]).toEqual([200, 200]);
    // Each gateway holds one, but the principal holds two: a third is refused on either.
    for (const url of [a!, b!]) {
      const third = await open(url);
      expect(third.response.status).toBe(429);
      expect(third.response.headers.get('retry-after')).toBe('5');
    }
    // A stream closed on one gateway frees a place on the other.
    first.close();
    await stack.until(async () => {
      const again = await open(b!);
      again.close();
      return again.response.status === 200;
    }, 5_000, 'a freed place on the other gateway');
    second.close();
  });

  it('says when to come back on a 202', async () => {
    const impatient = await stack.startGateway({ decisionTimeoutMs: 50 });
    const index = stack.gateways.indexOf(impatient);
    await stack.stopWriter();
    try {
      const pending = await call(DEV_KEYS.secretariat.secret, 'POST', '/v1/consultations', consultationInput(), index, { 'idempotency-key': randomUUID() });
      expect(pending.status).toBe(202);
      expect(pending.headers.get('retry-after')).toBe('1');
    } finally {
      await stack.startWriter();
    }
  });

  it('limits requests per API key across gateways (429 with Retry-After), not per gateway', async () => {
    const limited = { rateLimit: { max: 5, windowMs: 20_000 } };
    const [a, b] = [await stack.startGateway(limited), await stack.startGateway(limited)].map((g) => stack.gateways.indexOf(g));
    const key = await stack.issueKey({ kind: 'member-state', id: 'KHM' });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await call(key.secret, 'GET', '/v1/consultations', undefined, i % 2 === 0 ? a! : b!)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const refused = await call(key.secret, 'GET', '/v1/consultations', undefined, b);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'rate-limited', type: '/problems/rate-limited' });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(20);
    // Another key has its own allowance; health checks are never limited.
    expect((await call(DEV_KEYS.THA.secret, 'GET', '/v1/consultations', undefined, a)).status).toBe(200);
    expect((await fetch(`${stack.baseUrls[a!]}/healthz`)).status).toBe(200);
  });

  it('closes a connection whose body trickles in slower than the request timeout', async () => {
    const strict = await stack.startGateway({ requestTimeoutMs: 1_500 });
    const { port } = new URL(stack.baseUrls[stack.gateways.indexOf(strict)]!);
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
    socket.on('error', () => undefined);
    const started = Date.now();
    socket.write(
      `POST /v1/consultations HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${DEV_KEYS.secretariat.secret}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{`,
    );
    const trickle = setInterval(() => socket.writable && socket.write(' '), 200);
    try {
      const at = await Promise.race([closed, sleep(10_000).then(() => 0)]);
      expect(at, 'the socket is still open after 10 s').toBeGreaterThan(0);
      expect(at - started).toBeLessThan(5_000);
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  });
});
