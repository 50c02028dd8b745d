import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsultationClient, type Pending } from '@consult/sdk';
import { consultationInput, futureIso, Stack } from '../support/stack.js';

/** The client SDK that integrators use, against the real API: every method answers what the API promises. */
describe('the client SDK', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await new Stack({ decisionTimeoutMs: 1_500 }).start();
  });
  afterAll(async () => stack?.stop());

  it('takes a CSO statement through its whole lifecycle', async () => {
    const secretariat = stack.client('secretariat');
    const accredited = await secretariat.csos.accredit({
      name: 'Mekong Civil Society Forum',
      linkBody: 'Standing Committee',
      accreditedUntil: futureIso(365 * 86_400_000),
      contact: { name: 'Dara Sok', email: 'secretariat@mekong-forum.example' },
    });
    expect(accredited.status).toBe(201);
    expect(accredited.body.apiKey).toEqual(expect.any(String));
    const cso = new ConsultationClient({ baseUrl: stack.baseUrl, apiKey: accredited.body.apiKey! });
    const submitted = await cso.csos.submitStatement({ subject: 'Water rights', body: 'We recommend…', language: 'en' }, 'st-1');
    expect(submitted.status).toBe(201);
    const id = submitted.body.statementId;
    expect((await secretariat.csos.statements({ queue: 'review' })).body.items.map((s) => s.statementId)).toContain(id);
    expect((await secretariat.csos.review(id)).status).toBe(200);
    expect((await secretariat.csos.forward(id, 'For the next session')).status).toBe(200);
    const committee = stack.client('committee');
    expect((await committee.csos.acknowledge(id)).status).toBe(200);
    const final = await cso.csos.statement(id);
    expect(final.body.status).toBe('acknowledged');
    expect(final.body.history.map((h) => h.status)).toEqual(['submitted', 'under-review', 'forwarded', 'acknowledged']);
    const revoked = await secretariat.csos.revoke(accredited.body.id, 'no longer meets the criteria');
    expect(revoked.body.status).toBe('revoked');
    expect((await secretariat.csos.get(accredited.body.id)).body.status).toBe('revoked');
  });

  it('creates, lists and deletes a subscription, and reads a consultation history', async () => {
    const khm = stack.client('KHM');
    const created = await khm.subscriptions.create({
      url: 'http://127.0.0.1:9/hooks',
      events: ['consultation.reminder-issued'],
      secret: 'a-secret-of-sixteen-chars',
    });
    expect(created.status).toBe(201);
    expect((await khm.subscriptions.list()).body.items.map((s) => s.id)).toContain(created.body.id);
    expect((await khm.subscriptions.deliveries(created.body.id)).body.items).toEqual([]);
    expect((await khm.subscriptions.delete(created.body.id)).status).toBeLessThan(300);
    expect((await khm.subscriptions.get(created.body.id)).status).toBe(404);

    const consultation = (await stack.client('secretariat').createConsultation(consultationInput())).body;
    await khm.postComment(consultation.id, { body: 'Agreed.', language: 'en' }, 'sdk-1');
    const history = await stack.client('auditor').history(consultation.id);
    expect(history.body.items.map((e) => e.type)).toEqual(['consultation.opened', 'consultation.comment-submitted']);
    expect((await khm.history(consultation.id)).status).toBe(403);
  });

  it('follows a 202 to its decision', async () => {
    const consultation = (await stack.client('secretariat').createConsultation(consultationInput())).body;
    await stack.stopWriter();
    const posted = await stack.client('THA').postComment(consultation.id, { body: 'Queued.', language: 'en' }, 'sdk-202');
    expect(posted.status).toBe(202);
    const restarted = stack.startWriter();
    const decided = await stack.client('THA').awaitDecision(posted.body as unknown as Pending, { timeoutMs: 30_000 });
    await restarted;
    expect(decided.body).toMatchObject({ status: 'accepted', receipt: { memberState: 'THA' } });
  });
});
