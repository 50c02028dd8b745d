import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consultationInput, futureIso, Stack } from '../support/stack.js';

describe('consultations and comments through the API', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await new Stack().start(2);
  });
  afterAll(async () => stack?.stop());

  async function openConsultation(overrides: Record<string, unknown> = {}) {
    const created = await stack.client('secretariat').createConsultation(consultationInput(overrides));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body;
  }

  it('circulates a consultation with every addressee pending, visible at once', async () => {
    const secretariat = stack.client('secretariat');
    const created = await secretariat.createConsultation(consultationInput());
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/consultations/${created.body.id}`);
    expect(created.body).toMatchObject({
      reference: 'IO/218',
      status: 'open',
      addressees: ['KHM', 'THA', 'KAZ'],
      responses: { KHM: 'pending', THA: 'pending', KAZ: 'pending' },
      commentCount: 0,
      commentVisibility: 'own',
      reminderOffsetsSeconds: [604800, 86400, 3600],
    });
    expect(created.body.documents.map((d) => d.language)).toEqual(['en', 'ru', 'kk']);
    const fetched = await secretariat.getConsultation(created.body.id);
    expect(fetched.body).toEqual(created.body);
    const open = await secretariat.listConsultations({ status: 'open' });
    expect(open.body.items.map((c) => c.id)).toContain(created.body.id);
    const closed = await secretariat.listConsultations({ status: 'closed' });
    expect(closed.body.items.map((c) => c.id)).not.toContain(created.body.id);
  });

  it('answers a retried creation with the same Idempotency-Key with the same consultation', async () => {
    const secretariat = stack.client('secretariat');
    const input = consultationInput({ reference: 'IO/219' });
    const first = await secretariat.createConsultation(input, 'create-io-219');
    const again = await secretariat.createConsultation(input, 'create-io-219');
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('accepts a comment, answers with a receipt and shows it on the next read', async () => {
    const consultation = await openConsultation();
    const khm = stack.client('KHM');
    const posted = await khm.postComment(consultation.id, { body: 'Cambodia supports rule 12.', language: 'en' }, 'khm-1');
    expect(posted.status).toBe(201);
    expect(posted.body).toMatchObject({ memberState: 'KHM', trackingNumber: 'IO/218/KHM/1', consultationId: consultation.id });
    expect(Date.parse(posted.body.receivedAt)).toBeLessThanOrEqual(Date.now());
    // Read-your-write: the 201 is only sent once the read models show the comment.
    const after = await stack.client('secretariat', 1).getConsultation(consultation.id);
    expect(after.body.responses).toEqual({ KHM: 'commented', THA: 'pending', KAZ: 'pending' });
    expect(after.body.commentCount).toBe(1);
    const comments = await stack.client('secretariat').listComments(consultation.id);
    expect(comments.body.items).toEqual([
      expect.objectContaining({ commentId: posted.body.commentId, body: 'Cambodia supports rule 12.', revision: 1, status: 'active' }),
    ]);
  });

  it('returns the same receipt for the same key and body, 409 for the same key with another body', async () => {
    const consultation = await openConsultation();
    const khm = stack.client('KHM');
    const first = await khm.postComment(consultation.id, { body: 'A', language: 'en' }, 'same-key');
    const retry = await khm.postComment(consultation.id, { body: 'A', language: 'en' }, 'same-key');
    const other = await khm.postComment(consultation.id, { body: 'B', language: 'en' }, 'same-key');
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(other.status).toBe(409);
    expect(other.problem).toMatchObject({ code: 'idempotency-key-reused', status: 409, type: '/problems/idempotency-key-reused' });
    expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await khm.listComments(consultation.id)).body.items).toHaveLength(1);
  });

  it('never creates two comments for one key under concurrent posts through two gateways', async () => {
    const consultation = await openConsultation();
    const posts = Array.from({ length: 40 }, (_, i) =>
      stack.client('THA', i % 2).postComment(consultation.id, { body: 'Thailand concurs.', language: 'en' }, 'tha-burst'),
    );
    const results = await Promise.all(posts);
    expect(results.map((r) => r.status)).toEqual(results.map(() => 201));
    expect(new Set(results.map((r) => r.body.commentId)).size).toBe(1);
    const view = await stack.client('secretariat').getConsultation(consultation.id);
    expect(view.body.commentCount).toBe(1);
  });

  it('answers member states that are not addressees as for unknown consultations (404): existence is not revealed', async () => {
    const consultation = await openConsultation();
    const rus = await stack.client('RUS').postComment(consultation.id, { body: 'x', language: 'ru' }, 'k');
    expect(rus.status).toBe(404);
    expect(rus.problem?.code).toBe('consultation-not-found');
    const unknown = await stack.client('KHM').postComment('00000000-0000-4000-8000-000000000000', { body: 'x', language: 'en' }, 'k');
    expect(unknown.status).toBe(404);
    expect(unknown.problem?.code).toBe('consultation-not-found');
  });

  it('keeps every amendment, lets only the owner amend or withdraw, and updates who is pending', async () => {
    const consultation = await openConsultation();
    const khm = stack.client('KHM');
    const posted = await khm.postComment(consultation.id, { body: 'first', language: 'en' }, 'a');
    const amended = await khm.amendComment(consultation.id, posted.body.commentId, { body: 'second', language: 'ru' });
    expect(amended.status).toBe(200);
    expect(amended.body).toMatchObject({ revision: 2, trackingNumber: posted.body.trackingNumber });
    // Another member state's comment is not visible to THA (visibility "own"): a 404, as for no comment.
    const stolen = await stack.client('THA').amendComment(consultation.id, posted.body.commentId, { body: 'x', language: 'en' });
    expect(stolen.status).toBe(404);
    expect(stolen.problem?.code).toBe('comment-not-found');
    const comment = await khm.getComment(consultation.id, posted.body.commentId);
    expect(comment.body.body).toBe('second');
    expect(comment.body.revisions.map((r) => [r.revision, r.body, r.language])).toEqual([
      [1, 'first', 'en'],
      [2, 'second', 'ru'],
    ]);
    const withdrawn = await khm.withdrawComment(consultation.id, posted.body.commentId);
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body.status).toBe('withdrawn');
    const view = await khm.getConsultation(consultation.id);
    expect(view.body.responses.KHM).toBe('pending');
    expect(view.body.commentCount).toBe(0);
    const again = await khm.withdrawComment(consultation.id, posted.body.commentId);
    expect(again.status).toBe(409);
    expect(again.problem?.code).toBe('comment-withdrawn');
  });

  it('shows member states their own comments only, unless circulated with visibility "addressees"', async () => {
    const own = await openConsultation();
    const shared = await openConsultation({ commentVisibility: 'addressees' });
    for (const c of [own, shared]) {
      await stack.client('KHM').postComment(c.id, { body: 'khm', language: 'en' }, 'k');
      await stack.client('THA').postComment(c.id, { body: 'tha', language: 'en' }, 'k');
    }
    const khmOwn = await stack.client('KHM').listComments(own.id);
    expect(khmOwn.body.items.map((c) => c.memberState)).toEqual(['KHM']);
    const khmPeek = await stack.client('KHM').listComments(own.id, { memberState: 'THA' });
    expect(khmPeek.status).toBe(403);
    const khmShared = await stack.client('KHM').listComments(shared.id);
    expect(khmShared.body.items.map((c) => c.memberState)).toEqual(['KHM', 'THA']);
    const auditor = await stack.client('auditor').listComments(own.id);
    expect(auditor.body.items).toHaveLength(2);
    const rus = await stack.client('RUS').listComments(own.id);
    expect(rus.status).toBe(404);
    const committee = await stack.client('committee').listComments(own.id);
    expect(committee.status).toBe(403);
  });

  it('extends a deadline only to a later date', async () => {
    const consultation = await openConsultation();
    const secretariat = stack.client('secretariat');
    const sooner = await secretariat.extendDeadline(consultation.id, { deadline: futureIso(60_000), reason: 'typo' });
    expect(sooner.status).toBe(422);
    expect(sooner.problem?.code).toBe('deadline-not-later');
    const later = futureIso(60 * 86_400_000);
    const extended = await secretariat.extendDeadline(consultation.id, { deadline: later, reason: 'Requested by KAZ' });
    expect(extended.status).toBe(201);
    expect(extended.body).toMatchObject({ previousDeadline: consultation.deadline, deadline: later });
    expect((await secretariat.getConsultation(consultation.id)).body).toMatchObject({ deadline: later, deadlineExtensions: 1 });
    const byMember = await stack.client('KAZ').extendDeadline(consultation.id, { deadline: futureIso(61 * 86_400_000), reason: 'x' });
    expect(byMember.status).toBe(403);
  });

  it('publishes an OpenAPI document and reports readiness', async () => {
    const docs = await fetch(`${stack.baseUrl}/docs/json`).then((r) => r.json() as Promise<{ paths: Record<string, unknown> }>);
    expect(Object.keys(docs.paths)).toEqual(
      expect.arrayContaining(['/v1/consultations', '/v1/consultations/{id}', '/v1/consultations/{id}/comments']),
    );
    const ready = await fetch(`${stack.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, kafka: 'up', redis: 'up' });
  });
});
