import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainHash, csoEventCodec, identityEventCodec, sha256Hex, type CsoEvent, type IdentityEvent } from '@consult/contracts';
import { readToEnd } from '@consult/kafka';
import type { ApiResponse, ConsultationClient } from '@consult/sdk';
import { consultationInput, futureIso, Stack } from '../support/stack.js';

interface Cso {
  id: string;
  name: string;
  linkBody: string;
  accreditedUntil: string;
  contact: { name: string; email: string };
  status: 'accredited' | 'lapsed' | 'revoked';
  apiKey?: string;
  revokedAt?: string;
}

interface Receipt {
  statementId: string;
  trackingNumber: string;
  receivedAt: string;
  csoId: string;
  status: 'submitted';
}

interface Statement {
  statementId: string;
  trackingNumber: string;
  csoId: string;
  subject: string;
  body: string;
  status: string;
  forwardingNote?: string;
  returnReasons?: string;
  history: { status: string; at: string; actor: { kind: string; id: string }; note?: string; reasons?: string }[];
}

interface Page<T> {
  items: T[];
  total: number;
}

describe('CSO accreditation and written statements through the API', () => {
  let stack: Stack;
  let counter = 0;
  beforeAll(async () => {
    stack = await new Stack().start(1);
  });
  afterAll(async () => stack?.stop());

  const secretariat = (): ConsultationClient => stack.client('secretariat');
  const as = (apiKey: string, gateway = 0): ConsultationClient => stack.client('secretariat', gateway).withKey(apiKey);

  async function accredit(overrides: Record<string, unknown> = {}): Promise<Cso & { apiKey: string }> {
    counter += 1;
    const created = await secretariat().request<Cso>('POST', '/v1/csos', {
      name: `Steppe Water Alliance ${counter}`,
      linkBody: 'Standing Committee',
      accreditedUntil: futureIso(365 * 86_400_000),
      contact: { name: 'A. Contact', email: `contact${counter}@example.org` },
      ...overrides,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body as Cso & { apiKey: string };
  }

  const submit = (client: ConsultationClient, key: string, body: Record<string, unknown> = {}): Promise<ApiResponse<Receipt>> =>
    client.request<Receipt>(
      'POST',
      '/v1/cso-statements',
      { subject: 'Water rights in the basin', body: 'We recommend a joint monitoring body.', language: 'en', ...body },
      { 'idempotency-key': key },
    );

  const move = (client: ConsultationClient, id: string, step: 'review' | 'forwarding' | 'return' | 'acknowledgement', body: object = {}) =>
    client.request<Statement>('POST', `/v1/cso-statements/${id}/${step}`, body);

  const list = (client: ConsultationClient, query = '') => client.request<Page<Statement>>('GET', `/v1/cso-statements${query}`);

  it('accredits an organisation whose issued key works as soon as the 201 is returned', async () => {
    const cso = await accredit();
    expect(cso).toMatchObject({ status: 'accredited', linkBody: 'Standing Committee', contact: { name: 'A. Contact' } });
    expect(cso.apiKey).toMatch(/^cmk_/);
    const own = await as(cso.apiKey).request<Cso>('GET', `/v1/csos/${cso.id}`);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ id: cso.id, status: 'accredited' });
    expect(own.body.apiKey).toBeUndefined();
    const ownList = await as(cso.apiKey).request<Page<Cso>>('GET', '/v1/csos');
    expect(ownList.body.items.map((c) => c.id)).toEqual([cso.id]);
    const other = await accredit();
    expect((await as(cso.apiKey).request('GET', `/v1/csos/${other.id}`)).status).toBe(404);
    const audited = await stack.client('auditor').request<Page<Cso>>('GET', '/v1/csos');
    expect(audited.body.items.map((c) => c.id)).toEqual(expect.arrayContaining([cso.id, other.id]));
    expect((await stack.client('KHM').request('GET', '/v1/csos')).status).toBe(403);
    const byMember = await stack.client('KHM').request('POST', '/v1/csos', {
      name: 'x',
      linkBody: 'y',
      accreditedUntil: futureIso(86_400_000),
      contact: { name: 'z', email: 'z@example.org' },
    });
    expect(byMember.status).toBe(403);
    expect(byMember.problem?.code).toBe('forbidden');
  });

  it('answers bad accreditation requests with precise problems', async () => {
    const valid = {
      name: 'Valid',
      linkBody: 'Standing Committee',
      accreditedUntil: futureIso(86_400_000),
      contact: { name: 'C', email: 'c@example.org' },
    };
    const missing = await secretariat().request('POST', '/v1/csos', { ...valid, contact: undefined });
    expect(missing.status).toBe(400);
    expect(missing.problem).toMatchObject({ code: 'validation-failed', type: '/problems/validation-failed' });
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const unknown = await secretariat().request('POST', '/v1/csos', { ...valid, website: 'x' });
    expect(unknown.status).toBe(400);
    expect(unknown.problem?.detail).toMatch(/unknown field 'website'/);
    const badEmail = await secretariat().request('POST', '/v1/csos', { ...valid, contact: { name: 'C', email: 'nope' } });
    expect(badEmail.status).toBe(400);
    const past = await secretariat().request('POST', '/v1/csos', { ...valid, accreditedUntil: '2020-01-01T00:00:00Z' });
    expect(past.status).toBe(422);
    expect(past.problem?.code).toBe('accreditation-not-in-future');
    const noSuch = await secretariat().request('POST', '/v1/csos/00000000-0000-4000-8000-000000000000/renewal', { accreditedUntil: futureIso(1e9) });
    expect(noSuch.status).toBe(404);
    expect(noSuch.problem?.code).toBe('cso-not-found');
  });

  it('takes a statement from submission to acknowledgement, with who did what and when', async () => {
    const cso = await accredit();
    const client = as(cso.apiKey);
    const posted = await submit(client, 'lifecycle-1');
    expect(posted.status).toBe(201);
    expect(posted.body).toMatchObject({ csoId: cso.id, status: 'submitted', trackingNumber: `CSO/${cso.id.slice(0, 8).toUpperCase()}/1` });
    expect(posted.headers.get('location')).toBe(`/v1/cso-statements/${posted.body.statementId}`);
    const id = posted.body.statementId;

    const queue = await list(secretariat(), '?queue=review');
    expect(queue.body.items.map((s) => s.statementId)).toContain(id);
    const receivedTimes = queue.body.items.map((s) => Date.parse(s.history[0]!.at));
    expect(receivedTimes).toEqual([...receivedTimes].sort((a, b) => a - b));
    expect((await list(stack.client('committee'))).body.items.map((s) => s.statementId)).not.toContain(id);
    expect((await stack.client('committee').request('GET', `/v1/cso-statements/${id}`)).status).toBe(404);

    const reviewed = await move(secretariat(), id, 'review');
    expect(reviewed.status).toBe(200);
    expect(reviewed.body.status).toBe('under-review');
    const again = await move(secretariat(), id, 'review');
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.history).toHaveLength(2);

    expect((await move(client, id, 'forwarding')).status).toBe(403);
    const forwarded = await move(secretariat(), id, 'forwarding', { note: 'For agenda item 4' });
    expect(forwarded.status).toBe(200);
    expect(forwarded.body).toMatchObject({ status: 'forwarded', forwardingNote: 'For agenda item 4' });
    expect((await list(secretariat(), '?queue=review')).body.items.map((s) => s.statementId)).not.toContain(id);
    expect((await list(stack.client('committee'))).body.items.map((s) => s.statementId)).toContain(id);

    expect((await move(secretariat(), id, 'acknowledgement')).status).toBe(403);
    const acknowledged = await move(stack.client('committee'), id, 'acknowledgement');
    expect(acknowledged.status).toBe(200);
    expect(acknowledged.body.status).toBe('acknowledged');

    const seen = await client.request<Statement>('GET', `/v1/cso-statements/${id}`);
    expect(seen.body.status).toBe('acknowledged');
    expect(seen.body.history.map((h) => [h.status, h.actor.kind])).toEqual([
      ['submitted', 'cso'],
      ['under-review', 'secretariat'],
      ['forwarded', 'secretariat'],
      ['acknowledged', 'standing-committee'],
    ]);
    expect(seen.body.history[2]?.note).toBe('For agenda item 4');
    const times = seen.body.history.map((h) => Date.parse(h.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect((await stack.client('committee').request('GET', `/v1/cso-statements/${id}`)).status).toBe(200);
    expect((await stack.client('auditor').request('GET', `/v1/cso-statements/${id}`)).status).toBe(200);
  });

  it('returns a statement with reasons and refuses illegal transitions naming the current state', async () => {
    const cso = await accredit();
    const posted = await submit(as(cso.apiKey), 'return-1');
    const id = posted.body.statementId;
    const skip = await secretariat().request('POST', `/v1/cso-statements/${id}/forwarding`);
    expect(skip.status).toBe(409);
    expect(skip.problem).toMatchObject({ code: 'illegal-transition', currentState: 'submitted', type: '/problems/illegal-transition' });
    await move(secretariat(), id, 'review');
    const returned = await move(secretariat(), id, 'return', { reasons: 'Outside the mandate of the Committee' });
    expect(returned.body).toMatchObject({ status: 'returned', returnReasons: 'Outside the mandate of the Committee' });
    const late = await move(secretariat(), id, 'forwarding', { note: 'x' });
    expect(late.status).toBe(409);
    expect(late.problem).toMatchObject({ code: 'illegal-transition', currentState: 'returned' });
    expect(late.problem?.detail).toMatch(/is returned/);
    const noReasons = await move(secretariat(), id, 'return', {});
    expect(noReasons.status).toBe(400);
    const own = await as(cso.apiKey).request<Statement>('GET', `/v1/cso-statements/${id}`);
    expect(own.body).toMatchObject({ status: 'returned', returnReasons: 'Outside the mandate of the Committee' });
  });

  it('shows an organisation only its own statements', async () => {
    const a = await accredit();
    const b = await accredit();
    const posted = await submit(as(a.apiKey), 'mine');
    await submit(as(b.apiKey), 'theirs', { subject: 'Other matter' });
    const bList = await list(as(b.apiKey));
    expect(bList.body.items.every((s) => s.csoId === b.id)).toBe(true);
    expect(bList.body.items).toHaveLength(1);
    const peek = await as(b.apiKey).request('GET', `/v1/cso-statements/${posted.body.statementId}`);
    expect(peek.status).toBe(404);
    expect(peek.problem?.code).toBe('statement-not-found');
    expect((await list(as(b.apiKey), '?queue=review')).status).toBe(403);
    expect((await list(stack.client('KHM'))).status).toBe(403);
    const all = await list(stack.client('auditor'));
    expect(all.body.items.map((s) => s.csoId)).toEqual(expect.arrayContaining([a.id, b.id]));
  });

  it('returns the same receipt for the same key and body, 409 for the same key with another body', async () => {
    const cso = await accredit();
    const client = as(cso.apiKey);
    const consultation = await secretariat().createConsultation(consultationInput());
    const first = await submit(client, 'same-key', { relatesTo: consultation.body.id });
    const retry = await submit(client, 'same-key', { relatesTo: consultation.body.id });
    const other = await submit(client, 'same-key', { relatesTo: consultation.body.id, body: 'Something else' });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(other.status).toBe(409);
    expect(other.problem?.code).toBe('idempotency-key-reused');
    expect((await list(client)).body.total).toBe(1);
    const noKey = await client.request('POST', '/v1/cso-statements', { subject: 's', body: 'b', language: 'en' });
    expect(noKey.status).toBe(400);
    expect(noKey.problem?.code).toBe('idempotency-key-required');
    const unknown = await submit(client, 'k2', { relatesTo: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.status).toBe(422);
    expect(unknown.problem?.code).toBe('related-consultation-not-found');
    expect((await submit(stack.client('KHM'), 'k3')).status).toBe(403);
  });

  it('refuses statements from a revoked organisation and revokes its key', async () => {
    const cso = await accredit();
    // A second key of the same organisation (as an administrator could issue) keeps authenticating after the
    // revocation, so the refusal comes from the writer, which knows the accreditation.
    const extra = await stack.issueKey({ kind: 'cso', id: cso.id, name: cso.name });
    const revoked = await secretariat().request<Cso>('POST', `/v1/csos/${cso.id}/revocation`, { reason: 'Breach of the code of conduct' });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ status: 'revoked', revocationReason: 'Breach of the code of conduct' });
    const refused = await submit(as(extra.secret), 'after-revocation');
    expect(refused.status).toBe(403);
    expect(refused.problem).toMatchObject({ code: 'cso-not-accredited', type: '/problems/cso-not-accredited' });
    expect(refused.problem?.detail).toMatch(/revoked/);
    await stack.until(async () => (await as(cso.apiKey).request('GET', `/v1/csos/${cso.id}`)).status === 401, 15_000, 'the issued key to stop working');
    const renewal = await secretariat().request('POST', `/v1/csos/${cso.id}/renewal`, { accreditedUntil: futureIso(1e9) });
    expect(renewal.status).toBe(409);
    expect(renewal.problem?.code).toBe('cso-revoked');
    const again = await secretariat().request('POST', `/v1/csos/${cso.id}/revocation`, { reason: 'again' });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('refuses statements once the accreditation lapsed, and accepts them again after a renewal', async () => {
    const until = futureIso(1_500);
    const cso = await accredit({ accreditedUntil: until });
    const client = as(cso.apiKey);
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(until) - Date.now()) + 50));
    expect((await client.request<Cso>('GET', `/v1/csos/${cso.id}`)).body.status).toBe('lapsed');
    const refused = await submit(client, 'after-lapse');
    expect(refused.status).toBe(403);
    expect(refused.problem?.code).toBe('cso-not-accredited');
    expect(refused.problem?.detail).toMatch(/lapsed/);
    const renewed = await secretariat().request<Cso>('POST', `/v1/csos/${cso.id}/renewal`, { accreditedUntil: futureIso(86_400_000) });
    expect(renewed.status).toBe(200);
    expect(renewed.body.status).toBe('accredited');
    expect((await submit(client, 'after-renewal')).status).toBe(201);
  });

  it('chains every event of a CSO stream and issues and revokes its key as identity events', async () => {
    const cso = await accredit();
    const posted = await submit(as(cso.apiKey), 'chained');
    await move(secretariat(), posted.body.statementId, 'review');
    await move(secretariat(), posted.body.statementId, 'return', { reasons: 'Incomplete' });
    await secretariat().request('POST', `/v1/csos/${cso.id}/revocation`, { reason: 'Dissolved' });
    const events: CsoEvent[] = [];
    await readToEnd(stack.kafka, {
      topic: stack.topics.csoEvents,
      logger: stack.logger,
      onBatch: (_p, batch) => void events.push(...batch.map((m) => csoEventCodec.decode(m.value))),
    });
    const byKey = new Map<string, CsoEvent[]>();
    for (const e of events) byKey.set(e.key, [...(byKey.get(e.key) ?? []), e]);
    for (const stream of byKey.values()) {
      let previous: string | null = null;
      stream.forEach((e, i) => {
        const { hash, ...unhashed } = e;
        expect(e.sequence).toBe(i + 1);
        expect(e.previousHash).toBe(previous);
        expect(chainHash(unhashed, e.previousHash)).toBe(hash);
        previous = hash;
      });
    }
    expect(byKey.get(cso.id)?.map((e) => [e.type, e.actor.kind])).toEqual([
      ['cso.accredited', 'secretariat'],
      ['cso.statement-submitted', 'cso'],
      ['cso.statement-review-started', 'secretariat'],
      ['cso.statement-returned', 'secretariat'],
      ['cso.accreditation-revoked', 'secretariat'],
    ]);
    const identity: IdentityEvent[] = [];
    await readToEnd(stack.kafka, {
      topic: stack.topics.identityEvents,
      logger: stack.logger,
      onBatch: (_p, batch) => void identity.push(...batch.map((m) => identityEventCodec.decode(m.value))),
    });
    const mine = identity.filter((e) => e.data.keyHash === sha256Hex(cso.apiKey));
    expect(mine.map((e) => e.type)).toEqual(['identity.api-key-issued', 'identity.api-key-revoked']);
    expect(mine[0]?.type === 'identity.api-key-issued' && mine[0].data.principal).toMatchObject({ kind: 'cso', id: cso.id });
  });

  it('rebuilds identical views from Kafka after a Redis flush, the issued keys included', async () => {
    const cso = await accredit();
    const posted = await submit(as(cso.apiKey), 'before-flush');
    await move(secretariat(), posted.body.statementId, 'review');
    const snapshot = async (gateway = 0) => ({
      csos: (await stack.client('secretariat', gateway).request('GET', '/v1/csos?limit=200')).body,
      all: (await list(stack.client('auditor', gateway), '?limit=200')).body,
      queue: (await list(stack.client('secretariat', gateway), '?queue=review&limit=200')).body,
      committee: (await list(stack.client('committee', gateway), '?limit=200')).body,
      own: (await list(as(cso.apiKey, gateway))).body,
      one: (await as(cso.apiKey, gateway).request('GET', `/v1/cso-statements/${posted.body.statementId}`)).body,
      cso: (await as(cso.apiKey, gateway).request('GET', `/v1/csos/${cso.id}`)).body,
    });
    const before = await snapshot();
    expect(before.own).toMatchObject({ total: 1 });

    await stack.stopProjector();
    expect(await stack.flushRedis()).toBeGreaterThan(0);
    expect(await stack.readModel.principalByKeyHash(stack.redis, sha256Hex(cso.apiKey))).toBeNull();
    await stack.startProjector();
    await stack.until(async () => (await stack.readModel.principalByKeyHash(stack.redis, sha256Hex(cso.apiKey))) !== null, 60_000, 'keys rebuilt');
    // A fresh gateway has no cached keys: the CSO's key must come from the rebuilt directory.
    await stack.startGateway();
    await stack.until(async () => JSON.stringify(await snapshot(1)) === JSON.stringify(before), 60_000, 'identical views');
    expect(await snapshot(1)).toEqual(before);
    expect((await submit(as(cso.apiKey, 1), 'after-flush')).status).toBe(201);
  });
});
