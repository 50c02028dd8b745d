import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readToEnd } from '@consult/kafka';
import type { ApiResponse, CommentReceipt } from '@consult/sdk';
import { consultationInput, futureIso, Stack } from '../support/stack.js';

describe('bad input gets a precise problem and changes nothing', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await new Stack().start();
  });
  afterAll(async () => stack?.stop());

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${stack.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-secretariat-key-0001', 'content-type': 'application/json', ...headers },
      body,
    });

  it('refuses each kind of bad request with the right status and problem code', async () => {
    const secretariat = stack.client('secretariat');
    const before = (await secretariat.listConsultations()).body.total;
    const valid = consultationInput();
    const cases: [string, Promise<Response>, number, string][] = [
      ['no key', fetch(`${stack.baseUrl}/v1/consultations`), 401, 'unauthorized'],
      ['unknown key', fetch(`${stack.baseUrl}/v1/consultations`, { headers: { authorization: 'Bearer not-a-real-key-123456' } }), 401, 'unauthorized'],
      ['unknown field', post('/v1/consultations', JSON.stringify({ ...valid, colour: 'blue' })), 400, 'validation-failed'],
      ['wrong type', post('/v1/consultations', JSON.stringify({ ...valid, title: 5 })), 400, 'validation-failed'],
      ['date without offset', post('/v1/consultations', JSON.stringify({ ...valid, deadline: '2030-12-01T17:00:00' })), 400, 'validation-failed'],
      ['impossible date', post('/v1/consultations', JSON.stringify({ ...valid, deadline: '2030-13-45T17:00:00Z' })), 400, 'validation-failed'],
      ['past deadline', post('/v1/consultations', JSON.stringify({ ...valid, deadline: '2020-01-01T00:00:00Z' })), 422, 'deadline-not-in-future'],
      ['unknown member state', post('/v1/consultations', JSON.stringify({ ...valid, addressees: ['KHM', 'XXX'] })), 422, 'unknown-member-state'],
      ['lower-case code', post('/v1/consultations', JSON.stringify({ ...valid, addressees: ['khm'] })), 400, 'validation-failed'],
      ['duplicate addressees', post('/v1/consultations', JSON.stringify({ ...valid, addressees: ['KHM', 'KHM'] })), 400, 'validation-failed'],
      ['no documents', post('/v1/consultations', JSON.stringify({ ...valid, documents: [] })), 400, 'validation-failed'],
      ['not JSON', post('/v1/consultations', '{"reference": '), 400, 'invalid-json'],
      ['not a JSON media type', post('/v1/consultations', 'hello', { 'content-type': 'text/plain' }), 415, 'unsupported-media-type'],
      ['oversize body', post('/v1/consultations', JSON.stringify({ ...valid, summary: 'x'.repeat(300_000) })), 413, 'payload-too-large'],
      ['not a uuid', fetch(`${stack.baseUrl}/v1/consultations/42`, { headers: { authorization: 'Bearer dev-secretariat-key-0001' } }), 400, 'validation-failed'],
      ['no such route', fetch(`${stack.baseUrl}/v1/nothing`, { headers: { authorization: 'Bearer dev-secretariat-key-0001' } }), 404, 'not-found'],
      ['member state creating', post('/v1/consultations', JSON.stringify(valid), { authorization: 'Bearer dev-khm-key-00000001' }), 403, 'forbidden'],
    ];
    for (const [name, pending, status, code] of cases) {
      const response = await pending;
      const body = (await response.json()) as { code?: string; status?: number; type?: string; title?: string };
      expect({ name, status: response.status, code: body.code }).toEqual({ name, status, code });
      expect(response.headers.get('content-type'), name).toMatch(/^application\/problem\+json/);
      expect(body, name).toMatchObject({ status, type: `/problems/${code}`, title: expect.any(String) });
    }
    expect((await secretariat.listConsultations()).body.total).toBe(before);
  });

  it('refuses bad comments precisely and stores none of them', async () => {
    const created = await stack.client('secretariat').createConsultation(consultationInput());
    const id = created.body.id;
    const comment = (body: string, headers: Record<string, string>) =>
      post(`/v1/consultations/${id}/comments`, body, { authorization: 'Bearer dev-khm-key-00000001', ...headers });
    const cases: [string, Promise<Response>, number, string][] = [
      ['no Idempotency-Key', comment(JSON.stringify({ body: 'x', language: 'en' }), {}), 400, 'idempotency-key-required'],
      ['empty body', comment(JSON.stringify({ body: '', language: 'en' }), { 'idempotency-key': 'a' }), 400, 'validation-failed'],
      ['bad language', comment(JSON.stringify({ body: 'x', language: 'English' }), { 'idempotency-key': 'a' }), 400, 'validation-failed'],
      ['unknown field', comment(JSON.stringify({ body: 'x', language: 'en', urgent: true }), { 'idempotency-key': 'a' }), 400, 'validation-failed'],
      ['secretariat commenting', comment(JSON.stringify({ body: 'x', language: 'en' }), { 'idempotency-key': 'a', authorization: 'Bearer dev-secretariat-key-0001' }), 403, 'forbidden'],
    ];
    for (const [name, pending, status, code] of cases) {
      const response = await pending;
      const body = (await response.json()) as { code?: string };
      expect({ name, status: response.status, code: body.code }).toEqual({ name, status, code });
    }
    const view = await stack.client('secretariat').getConsultation(id);
    expect(view.body.commentCount).toBe(0);
  });
});

describe('deadlines, restarts and rebuilds', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await new Stack({ decisionTimeoutMs: 2_000 }).start(2);
  });
  afterAll(async () => stack?.stop());

  async function eventsOf(consultationId: string): Promise<{ type: string; sequence: number }[]> {
    const events: { type: string; sequence: number; key: string }[] = [];
    await readToEnd(stack.kafka, {
      topic: stack.topics.consultationEvents,
      logger: stack.logger,
      onBatch: (_p, messages) => {
        for (const m of messages) events.push(JSON.parse(m.value!.toString()) as { type: string; sequence: number; key: string });
      },
    });
    return events.filter((e) => e.key === consultationId).map(({ type, sequence }) => ({ type, sequence }));
  }

  it('accepts exactly the comments received by the deadline when posts race it, then closes', async () => {
    const deadlineMs = Date.now() + 2_500;
    const deadline = new Date(deadlineMs).toISOString();
    const created = await stack.client('secretariat').createConsultation(consultationInput({ deadline }));
    const id = created.body.id;
    type Attempt = { sentAt: number; answeredAt: number; response: ApiResponse<CommentReceipt> };
    const attempts: Attempt[] = [];
    const poster = async (state: 'KHM' | 'THA' | 'KAZ', gateway: number) => {
      for (let i = 0; Date.now() < deadlineMs + 1_000; i++) {
        const sentAt = Date.now();
        const response = await stack.client(state, gateway).postComment(id, { body: `${state} ${i}`, language: 'en' }, `${state}-${gateway}-${i}`);
        attempts.push({ sentAt, answeredAt: Date.now(), response });
      }
    };
    await Promise.all([poster('KHM', 0), poster('THA', 1), poster('KAZ', 0), poster('KHM', 1)].map((p) => p.catch(() => undefined)));
    const accepted = attempts.filter((a) => a.response.status === 201);
    const refused = attempts.filter((a) => a.response.status === 409);
    expect(accepted.length + refused.length).toBe(attempts.length);
    expect(accepted.length).toBeGreaterThan(5);
    expect(refused.length).toBeGreaterThan(0);
    for (const a of accepted) expect(Date.parse(a.response.body.receivedAt)).toBeLessThanOrEqual(deadlineMs);
    for (const a of refused) expect(a.response.problem?.code).toBe('consultation-closed');
    // Whatever was answered before the deadline was received before it; whatever was sent after, after it.
    for (const a of attempts.filter((x) => x.answeredAt < deadlineMs)) expect(a.response.status).toBe(201);
    for (const a of attempts.filter((x) => x.sentAt > deadlineMs)) expect(a.response.status).toBe(409);

    await stack.sendCommand({
      id: randomUUID(), type: 'consultation.close', version: 1, key: id, receivedAt: new Date().toISOString(),
      correlationId: 'test', actor: { kind: 'system', id: 'test' }, data: {},
    });
    await stack.until(async () => (await stack.client('secretariat').getConsultation(id)).body.status === 'closed', 10_000, 'closing');
    const view = (await stack.client('secretariat').getConsultation(id)).body;
    expect(view.commentCount).toBe(accepted.length);
    const late = await stack.client('THA').postComment(id, { body: 'late', language: 'en' }, 'after-close');
    expect(late.status).toBe(409);
    const history = await eventsOf(id);
    expect(history.filter((e) => e.type === 'consultation.comment-submitted')).toHaveLength(accepted.length);
    expect(history.at(-1)?.type).toBe('consultation.closed');
    expect(history.map((e) => e.sequence)).toEqual(history.map((_, i) => i + 1));
  });

  it('answers 202 while the writer is down, decides once when it is back, and never applies a command twice', async () => {
    const created = await stack.client('secretariat').createConsultation(consultationInput());
    const id = created.body.id;
    await stack.client('KHM').postComment(id, { body: 'before', language: 'en' }, 'k-before');
    await stack.stopWriter();
    const pending = await stack.client('THA').postComment(id, { body: 'while down', language: 'en' }, 'k-down');
    expect(pending.status).toBe(202);
    const statusUrl = (pending.body as unknown as { statusUrl: string }).statusUrl;
    const commandId = (pending.body as unknown as { commandId: string }).commandId;
    expect(pending.headers.get('location')).toBe(statusUrl);
    expect((await stack.client('THA').commandStatus(commandId)).body.status).toBe('pending');
    await stack.startWriter();
    await stack.until(async () => (await stack.client('THA').commandStatus(commandId)).body.status === 'accepted', 20_000, 'decision');
    const status = await stack.client('THA').commandStatus(commandId);
    const retry = await stack.client('THA').postComment(id, { body: 'while down', language: 'en' }, 'k-down');
    expect(retry.status).toBe(201);
    expect(retry.body.commentId).toBe(status.body.receipt?.commentId);
    // Someone else may not read the outcome of THA's command.
    expect((await stack.client('KHM').commandStatus(commandId)).status).toBe(404);
    // A restart after processing re-reads state from Kafka and re-applies nothing.
    await stack.stopWriter();
    await stack.startWriter();
    await stack.client('KAZ').postComment(id, { body: 'after', language: 'en' }, 'k-after');
    const history = await eventsOf(id);
    expect(history.map((e) => e.type)).toEqual([
      'consultation.opened',
      'consultation.comment-submitted',
      'consultation.comment-submitted',
      'consultation.comment-submitted',
    ]);
  });

  it('rebuilds identical answers, API keys included, after Redis is flushed', async () => {
    const secretariat = stack.client('secretariat');
    const a = (await secretariat.createConsultation(consultationInput({ reference: 'IO/300' }))).body;
    const b = (await secretariat.createConsultation(consultationInput({ reference: 'IO/301', commentVisibility: 'addressees' }))).body;
    const posted = await stack.client('KHM').postComment(a.id, { body: 'one', language: 'en' }, 'r1');
    await stack.client('KHM').amendComment(a.id, posted.body.commentId, { body: 'one, amended', language: 'ru' });
    const thb = await stack.client('THA').postComment(b.id, { body: 'two', language: 'en' }, 'r2');
    await stack.client('THA').withdrawComment(b.id, thb.body.commentId);
    await secretariat.extendDeadline(b.id, { deadline: futureIso(60 * 86_400_000), reason: 'more time' });
    const snapshot = async () => ({
      a: (await secretariat.getConsultation(a.id)).body,
      b: (await secretariat.getConsultation(b.id)).body,
      open: (await secretariat.listConsultations({ status: 'open', limit: 200 })).body,
      closed: (await secretariat.listConsultations({ status: 'closed', limit: 200 })).body,
      commentsA: (await secretariat.listComments(a.id)).body,
      commentsB: (await stack.client('KHM').listComments(b.id)).body,
      khmView: (await stack.client('KHM').listConsultations({ limit: 200 })).body,
    });
    const before = await snapshot();
    await stack.stopProjector();
    expect(await stack.flushRedis()).toBeGreaterThan(10);
    await stack.startProjector();
    await stack.until(async () => (await stack.readModel.versionOf(stack.redis, b.id)) === before.b.version, 30_000, 'rebuild');
    // Keys are rebuilt from the identity topic; wait out the gateways' short key cache.
    await stack.until(async () => (await stack.client('KHM').getConsultation(a.id)).status === 200, 30_000, 'keys');
    const after = await snapshot();
    expect(after).toEqual(before);
  });
});
