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

  it('asks getConsultation for a language (acceptLanguage), alone or with asOf, falling back to the original', async () => {
    const secretariat = stack.client('secretariat');
    const consultation = (await secretariat.createConsultation(consultationInput({ addressees: ['KAZ'] }))).body;
    await new Promise((r) => setTimeout(r, 20));
    const opened = new Date().toISOString();
    const kaz = stack.client('KAZ');
    const ru = await kaz.getConsultation(consultation.id, { acceptLanguage: 'ru' });
    expect(ru.status).toBe(200);
    expect(ru.body).toMatchObject({ language: 'ru', document: { language: 'ru', title: 'Проект правил процедуры' } });
    expect(ru.headers.get('content-language')).toBe('ru');
    const preferred = await kaz.getConsultation(consultation.id, { acceptLanguage: 'de, kk;q=0.9, ru;q=0.5' });
    expect(preferred.body).toMatchObject({ language: 'kk', document: { title: 'Рәсімдер ережесінің жобасы' } });
    // A language not there: the original (English, the first document).
    const de = await kaz.getConsultation(consultation.id, { acceptLanguage: 'de' });
    expect(de.body).toMatchObject({ language: 'en', document: { language: 'en', title: 'Draft rules of procedure' } });
    expect(de.headers.get('content-language')).toBe('en');
    // With asOf, through the options or the string as before.
    const then = await stack.client('auditor').getConsultation(consultation.id, { asOf: opened, acceptLanguage: 'ru' });
    expect(then.status, JSON.stringify(then.body)).toBe(200);
    expect(then.body).toMatchObject({ asOf: opened, language: 'ru', document: { language: 'ru' } });
    expect((await stack.client('auditor').getConsultation(consultation.id, opened)).body).toMatchObject({ asOf: opened });
  });

  it('downloads the file of a superseded document version', async () => {
    const secretariat = stack.client('secretariat');
    const first = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from('as circulated '.repeat(100))]);
    const second = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from('corrigendum '.repeat(100))]);
    const [a, b] = [(await secretariat.attachments.upload(first)).body, (await secretariat.attachments.upload(second)).body];
    const consultation = (
      await secretariat.createConsultation(consultationInput({ addressees: ['KAZ'], documents: [{ language: 'en', title: 'IO/218', attachment: a }] }))
    ).body;
    const issued = await secretariat.request('POST', `/v1/consultations/${consultation.id}/document-versions`, { kind: 'corrigendum', documents: [{ language: 'en', title: 'IO/218/Corr.1', attachment: b }] });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    const kaz = stack.client('KAZ');
    expect((await kaz.attachments.ofDocument(consultation.id, 0)).digest).toBe(b.digest);
    const old = await kaz.attachments.ofDocumentVersion(consultation.id, 1, 0);
    expect(old).toMatchObject({ status: 200, digest: a.digest, mediaType: 'application/pdf' });
    expect(old.bytes.equals(first)).toBe(true);
    expect((await stack.client('MNG').attachments.ofDocumentVersion(consultation.id, 1, 0)).status).toBe(404);
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
