import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEV_KEYS } from '@consult/admin';
import { createLogger } from '@consult/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw } from '../support/http.js';
import { consultationInput, futureIso, Stack } from '../support/stack.js';

/**
 * What integrators rely on beyond the happy path: idempotency everywhere a retry can happen, command status
 * that never lies, lists that count only what the caller may see, and logs that never hold a secret.
 */
describe('API semantics integrators rely on', () => {
  let stack: Stack;
  const logLines: string[] = [];
  const secretsSeen: string[] = [];
  let receiver: Server;
  let receiverUrl = '';
  const received: string[] = [];

  beforeAll(async () => {
    // Every part of the stack logs through this logger, at the most verbose level, into memory.
    const logger = createLogger('semantics', { level: 'trace', pretty: false, destination: { write: (line: string) => void logLines.push(line) } });
    stack = await new Stack({ logger }).start();
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push(body);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    receiver?.close();
    await stack?.stop();
  });

  const sec = () => stack.client('secretariat');

  it('refuses a used Idempotency-Key with another consultation body, whatever field differs', async () => {
    const input = consultationInput({ reference: 'IO/300' });
    const first = await sec().createConsultation(input, 'sem-open-1');
    expect(first.status).toBe(201);
    const again = await sec().createConsultation(input, 'sem-open-1');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    for (const change of [{ deadline: futureIso(40 * 86_400_000) }, { addressees: ['KHM'] }, { title: 'Another title' }]) {
      const other = await sec().createConsultation({ ...input, ...change }, 'sem-open-1');
      expect(other.status, JSON.stringify(change)).toBe(409);
      expect(other.problem?.code).toBe('idempotency-key-reused');
    }
  });

  it('refuses a used Idempotency-Key with another accreditation body', async () => {
    const input = { name: 'Semantics CSO', linkBody: 'Standing Committee', accreditedUntil: futureIso(365 * 86_400_000), contact: { name: 'A', email: 'a@example.org' } };
    const first = await sec().csos.accredit(input, 'sem-cso-1');
    expect(first.status).toBe(201);
    secretsSeen.push(String(first.body.apiKey));
    const again = await sec().csos.accredit(input, 'sem-cso-1');
    expect(again.status).toBe(201);
    expect(again.body.apiKey).toBeUndefined();
    const other = await sec().csos.accredit({ ...input, contact: { name: 'B', email: 'b@example.org' } }, 'sem-cso-1');
    expect(other.status).toBe(409);
    expect(other.problem?.code).toBe('idempotency-key-reused');
  });

  it('adds no revision when a comment is PUT again with the same body, and answers a retried DELETE with the first answer', async () => {
    const consultation = (await sec().createConsultation(consultationInput({ reference: 'IO/301' }))).body;
    const khm = stack.client('KHM');
    const posted = await khm.postComment(consultation.id, { body: 'First', language: 'en' }, 'sem-c-1');
    const amended = await khm.amendComment(consultation.id, posted.body.commentId, { body: 'Second', language: 'en' });
    expect(amended.body.revision).toBe(2);
    const same = await khm.amendComment(consultation.id, posted.body.commentId, { body: 'Second', language: 'en' });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ revision: 2, receivedAt: amended.body.receivedAt });
    expect((await khm.getComment(consultation.id, posted.body.commentId)).body.revisions).toHaveLength(2);

    const del = (key?: string) =>
      raw(stack.baseUrl, {
        method: 'DELETE',
        path: `/v1/consultations/${consultation.id}/comments/${posted.body.commentId}`,
        key: DEV_KEYS.KHM.secret,
        headers: key ? { 'idempotency-key': key } : {},
      });
    const withdrawn = await del('sem-del-1');
    expect(withdrawn.status).toBe(200);
    const retried = await del('sem-del-1');
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.json).toMatchObject({ commentId: posted.body.commentId, status: 'withdrawn', withdrawnAt: withdrawn.json?.withdrawnAt });
    // Without a key a second withdrawal is still the documented 409.
    expect((await del()).json?.code).toBe('comment-withdrawn');
  });

  it('answers a retried deadline extension with the first answer, and adds no second extension', async () => {
    const consultation = (await sec().createConsultation(consultationInput({ reference: 'IO/302' }))).body;
    const request = { deadline: futureIso(60 * 86_400_000), reason: 'Requested by KAZ' };
    const first = await sec().extendDeadline(consultation.id, request);
    expect(first.status).toBe(201);
    const again = await sec().extendDeadline(consultation.id, request);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect((await sec().getConsultation(consultation.id)).body.deadlineExtensions).toBe(1);
  });

  it('answers retried statement transitions (with or without an Idempotency-Key) with the first answer', async () => {
    const cso = await sec().csos.accredit({ name: 'Transit CSO', linkBody: 'SC', accreditedUntil: futureIso(86_400_000 * 30), contact: { name: 'T', email: 't@example.org' } });
    secretsSeen.push(String(cso.body.apiKey));
    const submitted = await raw(stack.baseUrl, {
      method: 'POST',
      path: '/v1/cso-statements',
      key: String(cso.body.apiKey),
      body: JSON.stringify({ subject: 'S', body: 'B', language: 'en' }),
      headers: { 'idempotency-key': 'sem-st-1' },
    });
    const id = String(submitted.json?.statementId);
    const review = (key: string) => raw(stack.baseUrl, { method: 'POST', path: `/v1/cso-statements/${id}/review`, key: DEV_KEYS.secretariat.secret, headers: { 'idempotency-key': key } });
    const first = await review('sem-review-1');
    expect(first.status).toBe(200);
    const retried = await review('sem-review-1');
    expect(retried.status).toBe(200);
    expect(retried.json).toEqual(first.json);
    expect((await raw(stack.baseUrl, { method: 'POST', path: `/v1/cso-statements/${id}/review`, key: DEV_KEYS.secretariat.secret })).json).toEqual(first.json);
    expect((first.json as { history: unknown[] }).history).toHaveLength(2);
  });

  it('creates one subscription for a retried request with the same Idempotency-Key, 409 for another body', async () => {
    const secret = `whsec-${randomUUID()}`;
    secretsSeen.push(secret);
    const create = (url: string) =>
      raw(stack.baseUrl, {
        method: 'POST',
        path: '/v1/subscriptions',
        key: DEV_KEYS.secretariat.secret,
        body: JSON.stringify({ url, events: ['consultation.opened'], secret }),
        headers: { 'idempotency-key': 'sem-sub-1' },
      });
    const first = await create(receiverUrl);
    expect(first.status).toBe(201);
    const again = await create(receiverUrl);
    expect(again.status).toBe(201);
    expect(again.json).toEqual(first.json);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await create(`${receiverUrl}/other`)).json?.code).toBe('idempotency-key-reused');
    expect((await sec().subscriptions.list()).body.items.filter((s) => s.id === first.json?.id)).toHaveLength(1);
    // A signed delivery happens (and is logged) during this run.
    await sec().createConsultation(consultationInput({ reference: 'IO/303' }));
    await stack.until(async () => received.length > 0, 20_000, 'a delivery');
  });

  it('answers 404 for a command id nobody sent, pending only for one that was sent', async () => {
    const unknown = await sec().commandStatus(randomUUID());
    expect(unknown.status).toBe(404);
    expect(unknown.problem?.code).toBe('command-not-found');
  });

  it("pages and counts only the consultations addressed to a member state", async () => {
    for (const [i, addressees] of [['MNG'], ['KHM'], ['MNG', 'THA'], ['THA'], ['MNG']].entries())
      expect((await sec().createConsultation(consultationInput({ reference: `IO/4${i}`, addressees }))).status).toBe(201);
    const mng = stack.client('MNG');
    const all = await mng.listConsultations({ limit: 50 });
    expect(all.body.total).toBe(3);
    expect(all.body.items.every((c) => c.addressees.includes('MNG'))).toBe(true);
    const pages = [];
    for (let offset = 0; offset < 3; offset++) pages.push(...(await mng.listConsultations({ limit: 1, offset })).body.items.map((c) => c.id));
    expect(pages).toHaveLength(3);
    expect(new Set(pages)).toEqual(new Set(all.body.items.map((c) => c.id)));
    const open = await mng.listConsultations({ status: 'open', limit: 2 });
    expect(open.body).toMatchObject({ total: 3 });
    expect(open.body.items).toHaveLength(2);
    // Open ones by nearest deadline, as for everyone.
    expect(open.body.items.map((c) => Date.parse(c.deadline))).toEqual([...open.body.items.map((c) => Date.parse(c.deadline))].sort((a, b) => a - b));
    expect((await mng.listConsultations({ status: 'closed' })).body.total).toBe(0);
  });

  it('never writes a secret, an API key or an Authorization header to the logs of the whole run', async () => {
    // Failed authentications too.
    const guessed = `cmk_${randomUUID()}${randomUUID()}`;
    secretsSeen.push(guessed);
    expect((await raw(stack.baseUrl, { method: 'GET', path: '/v1/consultations', key: guessed })).status).toBe(401);
    expect((await raw(stack.baseUrl, { method: 'GET', path: '/v1/consultations', headers: { authorization: `Basic ${guessed}` } })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 500));
    expect(logLines.length).toBeGreaterThan(10);
    const everything = logLines.join('');
    for (const secret of [...Object.values(DEV_KEYS).map((k) => k.secret), ...secretsSeen]) {
      expect(secret.length).toBeGreaterThan(10);
      expect(everything.includes(secret), `a secret (${secret.slice(0, 6)}…) appears in the logs`).toBe(false);
    }
    expect(everything).not.toMatch(/Bearer\s/i);
    expect(everything).not.toMatch(/"authorization"\s*:\s*"(?!\[redacted\])/i);
  });
});
