import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsultationClient } from '@consult/sdk';
import { consultationInput, futureIso, Stack } from '../support/stack.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The SDK's statement history, asOf, co-signing and attachment methods, against the real API. */
describe('the client SDK: statements complete and attachments', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await new Stack().start();
  });
  afterAll(async () => stack?.stop());

  async function organisation(name: string): Promise<{ id: string; client: ConsultationClient }> {
    const created = await stack.client('secretariat').csos.accredit({
      name,
      linkBody: 'Standing Committee',
      accreditedUntil: futureIso(365 * 86_400_000),
      contact: { name: 'A. Contact', email: 'contact@example.org' },
    });
    expect(created.status).toBe(201);
    return { id: created.body.id, client: new ConsultationClient({ baseUrl: stack.baseUrl, apiKey: created.body.apiKey! }) };
  }

  it('co-signs, reads the history and the state at a past moment', async () => {
    const [lead, b, c] = [await organisation('Lead Forum'), await organisation('Second Forum'), await organisation('Third Forum')];
    const submitted = await lead.client.csos.submitStatement({ subject: 'Joint', body: 'We, the undersigned…', language: 'en', coSigners: [b.id] }, randomUUID());
    expect(submitted.body.status).toBe('awaiting-co-signatures');
    const id = submitted.body.statementId;
    const signed = await b.client.csos.coSign(id);
    expect(signed.body.status).toBe('submitted');
    expect(signed.body.coSigners).toEqual([{ csoId: b.id, status: 'confirmed', at: expect.any(String) }]);

    const refused = (await lead.client.csos.submitStatement({ subject: 'Other', body: '…', language: 'en', coSigners: [c.id] }, randomUUID())).body.statementId;
    const declined = await c.client.csos.refuseCoSignature(refused, 'Not our position');
    expect(declined.body.status).toBe('co-signing-declined');

    await new Promise((r) => setTimeout(r, 20));
    expect((await stack.client('secretariat').csos.review(id)).status).toBe(200);
    const history = await lead.client.csos.statementHistory(id);
    expect(history.status).toBe(200);
    const types = history.body.items.map((e) => e.type);
    expect(types[0]).toBe('cso.accredited');
    expect(types.at(-1)).toBe('cso.statement-review-started');
    expect(history.body.items.map((e) => e.sequence)).toEqual(history.body.items.map((_, i) => i + 1));
    const reviewedAt = Date.parse(history.body.items.at(-1)!.occurredAt);
    const before = await lead.client.csos.statementAsOf(id, new Date(reviewedAt - 1).toISOString());
    expect(before.body.status).toBe('submitted');
    expect((await lead.client.csos.statementAsOf(id, new Date(reviewedAt).toISOString())).body.status).toBe('under-review');
  });

  it('uploads files (a buffer, a stream), attaches them and downloads them with their digest', async () => {
    const khm = stack.client('KHM');
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(50_000)]);
    const uploaded = await khm.attachments.upload(pdf, { sha256: sha(pdf) });
    expect(uploaded.status).toBe(201);
    expect(uploaded.body).toEqual({ digest: sha(pdf), mediaType: 'application/pdf', size: pdf.length });
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(70_000)]);
    const streamed = await khm.attachments.upload(
      new ReadableStream({
        start(controller) {
          controller.enqueue(jpeg.subarray(0, 1_000));
          controller.enqueue(jpeg.subarray(1_000));
          controller.close();
        },
      }),
    );
    expect(streamed.body).toMatchObject({ digest: sha(jpeg), mediaType: 'image/jpeg' });
    const refused = await khm.attachments.upload(Buffer.from('#!/bin/sh\necho pwned\n'));
    expect(refused.status).toBe(415);
    expect(refused.problem?.code).toBe('attachment-type-not-allowed');

    const consultation = (await stack.client('secretariat').createConsultation(consultationInput({ addressees: ['KHM', 'THA'] }))).body;
    const posted = await khm.postComment(consultation.id, { body: 'See enclosures.', language: 'en', attachments: [{ digest: sha(pdf), filename: 'note.pdf' }, { digest: sha(jpeg) }] }, randomUUID());
    expect(posted.status).toBe(201);
    const file = await stack.client('secretariat').attachments.ofComment(consultation.id, posted.body.commentId, sha(pdf));
    expect(file).toMatchObject({ status: 200, mediaType: 'application/pdf', digest: sha(pdf), filename: 'note.pdf' });
    expect(sha(file.bytes)).toBe(file.digest);
    expect((await stack.client('THA').attachments.ofComment(consultation.id, posted.body.commentId, sha(pdf))).status).toBe(404);

    const org = await organisation('Files Forum');
    const statement = await org.client.csos.submitStatement({ subject: 'Map', body: 'Attached.', language: 'en', attachments: [{ digest: sha(jpeg) }] }, randomUUID());
    expect((await org.client.csos.statement(statement.body.statementId)).body.attachments).toEqual([{ digest: sha(jpeg), mediaType: 'image/jpeg', size: jpeg.length }]);
    expect(sha((await stack.client('auditor').attachments.ofStatement(statement.body.statementId, sha(jpeg))).bytes)).toBe(sha(jpeg));

    const withDocument = await stack.client('secretariat').createConsultation(
      consultationInput({ documents: [{ language: 'en', title: 'Note verbale', attachment: { digest: sha(pdf), mediaType: 'application/pdf', size: pdf.length } }] }),
    );
    expect(withDocument.status).toBe(201);
    expect((await stack.client('KHM').attachments.ofDocument(withDocument.body.id, 0)).digest).toBe(sha(pdf));
  });

  it('subscribes to statement events', async () => {
    const org = await organisation('Subscribing Forum');
    const created = await org.client.subscriptions.create({ url: 'http://127.0.0.1:9/hooks', events: ['cso.statement-returned', 'cso.statement-forwarded'], secret: 'a-secret-of-sixteen-chars' });
    expect(created.status).toBe(201);
    expect(created.body.events).toEqual(['cso.statement-returned', 'cso.statement-forwarded']);
  });
});
