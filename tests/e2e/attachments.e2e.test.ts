import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_KEYS } from '@consult/admin';
import { DirectoryStore } from '@consult/attachments';
import { exportEvents, runReplayCommand } from '@consult/replay';
import { consultationInput, futureIso, Stack, type DevKeyName } from '../support/stack.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const pdf = (text: string): Buffer =>
  Buffer.concat([Buffer.from(`%PDF-1.7\n% ${text}\n`), randomBytes(200_000), Buffer.from('\n%%EOF\n')]);

describe('attachments: upload once, refer by digest, download as who may read', () => {
  let stack: Stack;
  let dir: string;
  beforeAll(async () => {
    stack = await new Stack().start();
    dir = await mkdtemp(join(tmpdir(), 'attachments-e2e-'));
  });
  afterAll(async () => {
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function upload(who: DevKeyName, bytes: Buffer, headers: Record<string, string> = {}) {
    const response = await fetch(`${stack.baseUrl}/v1/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEV_KEYS[who].secret}`, 'content-type': 'application/pdf', ...headers },
      body: bytes,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }
  async function download(who: DevKeyName, path: string) {
    const response = await fetch(`${stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${DEV_KEYS[who].secret}` } });
    return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
  }

  it('a PDF attached to a comment round-trips with its digest verified; others may not download it', async () => {
    const file = pdf('Position of Cambodia on the draft rules');
    const uploaded = await upload('KHM', file, { 'x-content-sha256': sha(file) });
    expect(uploaded.status, JSON.stringify(uploaded.body)).toBe(201);
    expect(uploaded.body).toEqual({ digest: sha(file), mediaType: 'application/pdf', size: file.length });

    const consultation = await stack.client('secretariat').createConsultation(consultationInput({ addressees: ['KHM', 'THA'] }));
    const id = consultation.body.id;
    const posted = await stack
      .client('KHM')
      .request<{ commentId: string }>(
        'POST',
        `/v1/consultations/${id}/comments`,
        { body: 'Cambodia supports the draft; see the enclosed position paper.', language: 'en', attachments: [{ digest: sha(file), filename: 'position paper.pdf' }] },
        { 'idempotency-key': randomUUID() },
      );
    expect(posted.status, JSON.stringify(posted.body)).toBe(201);
    const commentId = posted.body.commentId;
    const comment = await stack.client('KHM').request<{ attachments: unknown[] }>('GET', `/v1/consultations/${id}/comments/${commentId}`);
    expect(comment.body.attachments).toEqual([{ digest: sha(file), mediaType: 'application/pdf', size: file.length, filename: 'position paper.pdf' }]);

    const path = `/v1/consultations/${id}/comments/${commentId}/attachments/${sha(file)}`;
    for (const who of ['secretariat', 'auditor', 'KHM'] as const) {
      const got = await download(who, path);
      expect(got.status).toBe(200);
      expect(sha(got.bytes)).toBe(sha(file));
      expect(got.headers.get('content-type')).toBe('application/pdf');
      expect(got.headers.get('content-disposition')).toMatch(/^attachment; filename="position paper.pdf"/);
      expect(got.headers.get('x-content-type-options')).toBe('nosniff');
      expect(got.headers.get('repr-digest')).toBe(`sha-256=:${Buffer.from(sha(file), 'hex').toString('base64')}:`);
    }
    // Thailand, an addressee that may not read Cambodia's comment, may not download its attachment either; nor
    // may a member state that is not an addressee.
    expect((await download('THA', path)).status).toBe(404);
    expect((await download('MNG', path)).status).toBe(404);
    expect((await download('secretariat', `/v1/consultations/${id}/comments/${commentId}/attachments/${'0'.repeat(64)}`)).status).toBe(404);

    // The history (and so the audit export) carries the reference, never the bytes.
    const history = await stack.client('auditor').request<{ items: { type: string; data: Record<string, unknown> }[] }>('GET', `/v1/consultations/${id}/history`);
    const submitted = history.body.items.find((e) => e.type === 'consultation.comment-submitted')!;
    expect(submitted.data.attachments).toEqual([{ digest: sha(file), mediaType: 'application/pdf', size: file.length, filename: 'position paper.pdf' }]);
    const exported = join(dir, 'export.ndjson');
    await exportEvents({ kafka: stack.kafka, logger: stack.logger, topic: stack.topics.consultationEvents, file: exported, consultation: id });
    const line = (await readFile(exported, 'utf8')).split('\n').find((l) => l.includes('comment-submitted'))!;
    expect(JSON.parse(line).data.attachments[0]).toMatchObject({ digest: sha(file), mediaType: 'application/pdf', size: file.length });
    expect(line.length).toBeLessThan(2_000);

    // replay --verify --attachments: every referenced digest is in the store and its bytes match.
    const verify = async (store: DirectoryStore) => {
      const out: string[] = [];
      const code = await runReplayCommand(
        { kafka: stack.kafka, redis: stack.redis, logger: stack.logger, topics: stack.topics, keyPrefix: stack.keyPrefix, out: (l) => out.push(l) },
        { kind: 'verify', attachments: store },
      );
      return { code, out };
    };
    const ok = await verify(new DirectoryStore(join(tmpdir(), 'consult-attachments')));
    expect(ok.out.at(-1)).toMatch(/^verified 1 referenced attachments in directory .*: 0 missing or altered$/);
    expect(ok.code).toBe(0);
    const empty = await verify(new DirectoryStore(join(dir, 'empty-store')));
    expect(empty.out).toContain(`ATTACHMENT MISSING: ${sha(file)} (${file.length} bytes), referenced by ${id} sequence 2`);
    expect(empty.code).toBe(1);
  });

  it('takes a 21 MiB file (the limit is 25 MiB) through POST /v1/attachments and gives back the same bytes', async () => {
    const size = 21 * 1024 * 1024;
    const file = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(size - 16), Buffer.from('\n%%EOF\n')]);
    expect(file.length).toBe(size);
    const digest = sha(file);
    const uploaded = await upload('KHM', file, { 'content-digest': `sha-256=:${Buffer.from(digest, 'hex').toString('base64')}:` });
    expect(uploaded.status, JSON.stringify(uploaded.body)).toBe(201);
    expect(uploaded.body).toEqual({ digest, mediaType: 'application/pdf', size });
    // Streamed without a declared length (chunked), the same bytes are the same file.
    let offset = 0;
    const streamed = await fetch(`${stack.baseUrl}/v1/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEV_KEYS.KHM.secret}`, 'content-type': 'application/pdf', 'x-content-sha256': digest },
      body: new ReadableStream({
        pull(controller) {
          if (offset >= size) return controller.close();
          controller.enqueue(new Uint8Array(file.subarray(offset, offset + 1024 * 1024)));
          offset += 1024 * 1024;
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(201);
    expect(await streamed.json()).toEqual({ digest, mediaType: 'application/pdf', size });

    const consultation = await stack.client('secretariat').createConsultation(consultationInput({ addressees: ['KHM'] }));
    const posted = await stack
      .client('KHM')
      .request<{ commentId: string }>(
        'POST',
        `/v1/consultations/${consultation.body.id}/comments`,
        { body: 'With the full annex.', language: 'en', attachments: [{ digest, filename: 'annex.pdf' }] },
        { 'idempotency-key': randomUUID() },
      );
    expect(posted.status, JSON.stringify(posted.body)).toBe(201);
    const got = await download('KHM', `/v1/consultations/${consultation.body.id}/comments/${posted.body.commentId}/attachments/${digest}`);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-length')).toBe(String(size));
    expect(got.headers.get('repr-digest')).toBe(`sha-256=:${Buffer.from(digest, 'hex').toString('base64')}:`);
    expect(got.bytes.length).toBe(size);
    expect(sha(got.bytes)).toBe(digest);
    // 21 MiB of random bytes is no one's to keep: out of the gateway's default store (tmpdir) again.
    const stored = join(tmpdir(), 'consult-attachments', 'sha256', digest.slice(0, 2), digest);
    await Promise.all([rm(stored, { force: true }), rm(`${stored}.json`, { force: true })]);
  });

  it('refuses an executable renamed .pdf, a digest that does not match and an oversize file, storing nothing', async () => {
    const exe = Buffer.concat([Buffer.from('MZ'), Buffer.from([0x90, 0, 3, 0]), Buffer.from('This program cannot be run in DOS mode'), randomBytes(4_000)]);
    const refused = await upload('KHM', exe, { 'content-disposition': 'attachment; filename="minutes.pdf"' });
    expect(refused.status).toBe(415);
    expect(refused.body).toMatchObject({ code: 'attachment-type-not-allowed' });

    const file = pdf('mismatch');
    const mismatch = await upload('KHM', file, { 'content-digest': `sha-256=:${createHash('sha256').update('other').digest('base64')}:` });
    expect(mismatch.status).toBe(422);
    expect(mismatch.body).toMatchObject({ code: 'attachment-digest-mismatch' });

    // A declared size over the limit is refused before a byte is read.
    const oversize = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${stack.baseUrl}/v1/attachments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEV_KEYS.KHM.secret}`, 'content-type': 'application/pdf', 'content-length': String(30 * 1024 * 1024) },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
      req.on('error', reject);
      req.write('%PDF-1.7\n');
    });
    expect(oversize.status).toBe(413);
    expect(JSON.parse(oversize.body)).toMatchObject({ code: 'attachment-too-large' });

    // Without a declared size (chunked), the upload is counted as it streams and refused past 25 MiB.
    let sent = 0;
    const chunked = await fetch(`${stack.baseUrl}/v1/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEV_KEYS.KHM.secret}`, 'content-type': 'application/pdf' },
      body: new ReadableStream({
        pull(controller) {
          if (sent > 27 * 1024 * 1024) return controller.close();
          controller.enqueue(sent === 0 ? new TextEncoder().encode('%PDF-1.7\n') : new Uint8Array(1024 * 1024));
          sent += sent === 0 ? 9 : 1024 * 1024;
        },
      }),
      duplex: 'half',
    }).catch((error: unknown) => error);
    expect(chunked instanceof Response ? chunked.status : String(chunked)).toBe(413);

    // None of them was stored: referring to them is a 422.
    const consultation = await stack.client('secretariat').createConsultation(consultationInput({ addressees: ['KHM'] }));
    for (const digest of [sha(exe), sha(file)]) {
      const posted = await stack
        .client('KHM')
        .request('POST', `/v1/consultations/${consultation.body.id}/comments`, { body: 'See attached.', language: 'en', attachments: [{ digest }] }, { 'idempotency-key': randomUUID() });
      expect(posted.status).toBe(422);
      expect(posted.problem?.code).toBe('attachment-unknown');
    }
    // At most 10 files on one comment.
    const many = await stack
      .client('KHM')
      .request('POST', `/v1/consultations/${consultation.body.id}/comments`, { body: 'Too many.', language: 'en', attachments: Array.from({ length: 11 }, (_, i) => ({ digest: sha(Buffer.from(String(i))) })) }, { 'idempotency-key': randomUUID() });
    expect(many.status).toBe(400);
    // Auditors and the committee upload nothing.
    expect((await upload('auditor', file)).status).toBe(403);
    expect((await upload('committee', file)).status).toBe(403);
  });

  it('a corrigendum or revision refers only to uploaded files, as creation does (422 attachment-unknown)', async () => {
    const file = pdf('IO/218/Corr.1');
    expect((await upload('secretariat', file)).status).toBe(201);
    const ref = { digest: sha(file), mediaType: 'application/pdf' as const, size: file.length, filename: 'IO-218-Corr.1.pdf' };
    const unknown = { ...ref, digest: sha(Buffer.from('never uploaded')) };
    const created = await stack.client('secretariat').createConsultation(consultationInput({ addressees: ['KHM'] }));
    expect(created.status).toBe(201);
    const id = created.body.id;
    const issue = (documents: unknown[]) =>
      stack.client('secretariat').request('POST', `/v1/consultations/${id}/document-versions`, { kind: 'corrigendum', documents }, { 'idempotency-key': randomUUID() });

    // The same answer creation gives for a digest no upload has.
    const atCreation = await stack.client('secretariat').createConsultation(consultationInput({ documents: [{ language: 'en', title: 'IO/218', attachment: unknown }] }));
    expect(atCreation.status).toBe(422);
    expect(atCreation.problem?.code).toBe('attachment-unknown');
    const refused = await issue([{ language: 'en', title: 'IO/218/Corr.1', attachment: unknown }]);
    expect(refused.status, JSON.stringify(refused.body)).toBe(422);
    expect(refused.problem).toMatchObject({ code: 'attachment-unknown', detail: expect.stringContaining(`documents/0/attachment: no uploaded file has SHA-256 ${unknown.digest}`) });
    // A known file declared with another type or size is refused too (400), as at creation.
    expect((await issue([{ language: 'en', title: 'IO/218/Corr.1', attachment: { ...ref, size: ref.size + 1 } }])).status).toBe(400);
    // Nothing was issued: the consultation is still at its first version.
    const history = await stack.client('auditor').request<{ items: { type: string }[] }>('GET', `/v1/consultations/${id}/history`);
    expect(history.body.items.map((e) => e.type)).not.toContain('consultation.document-version-issued');

    const issued = await issue([{ language: 'en', title: 'IO/218/Corr.1', attachment: ref }]);
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    expect(sha((await download('KHM', `/v1/consultations/${id}/documents/0/attachment`)).bytes)).toBe(sha(file));
  });

  it('the files of superseded document versions stay downloadable, by version, for whoever may read the consultation', async () => {
    const original = pdf('IO/218 as circulated');
    const corrected = pdf('IO/218/Corr.1');
    for (const file of [original, corrected]) expect((await upload('secretariat', file)).status).toBe(201);
    const ref = (file: Buffer, filename: string) => ({ digest: sha(file), mediaType: 'application/pdf' as const, size: file.length, filename });
    const created = await stack
      .client('secretariat')
      .createConsultation(consultationInput({ addressees: ['KHM'], documents: [{ language: 'en', title: 'IO/218', attachment: ref(original, 'IO-218.pdf') }] }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id;
    const issued = await stack
      .client('secretariat')
      .request('POST', `/v1/consultations/${id}/document-versions`, { kind: 'corrigendum', documents: [{ language: 'en', title: 'IO/218/Corr.1', attachment: ref(corrected, 'IO-218-Corr.1.pdf') }] }, { 'idempotency-key': randomUUID() });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);

    // The current route serves the version in force; the new one any version, the superseded included.
    expect(sha((await download('KHM', `/v1/consultations/${id}/documents/0/attachment`)).bytes)).toBe(sha(corrected));
    const versioned = (version: number, index = 0) => `/v1/consultations/${id}/document-versions/${version}/documents/${index}/attachment`;
    for (const who of ['KHM', 'secretariat', 'auditor'] as const) {
      const first = await download(who, versioned(1));
      expect(first.status).toBe(200);
      expect(sha(first.bytes)).toBe(sha(original));
      expect(first.headers.get('content-disposition')).toMatch(/^attachment; filename="IO-218.pdf"/);
      expect(first.headers.get('x-content-type-options')).toBe('nosniff');
      expect(sha((await download(who, versioned(2))).bytes)).toBe(sha(corrected));
    }
    // The same read rule as the consultation: a member state it is not addressed to, a CSO, the committee: 404.
    for (const who of ['THA', 'committee'] as const) expect((await download(who, versioned(1))).status).toBe(404);
    // No such version, or no such document in it.
    expect((await download('KHM', versioned(3))).status).toBe(404);
    expect((await download('KHM', versioned(1, 1))).status).toBe(404);
    expect((await download('KHM', `/v1/consultations/${randomUUID()}/document-versions/1/documents/0/attachment`)).status).toBe(404);
  });

  it('statements and consultation documents carry files too, downloadable by whoever may read them', async () => {
    const file = pdf('Note verbale IO/218 with enclosure, on 3 pages');
    const uploaded = await upload('secretariat', file);
    expect(uploaded.status).toBe(201);
    const consultation = await stack.client('secretariat').createConsultation(
      consultationInput({
        addressees: ['KHM'],
        documents: [{ language: 'en', title: 'Note verbale IO/218', attachment: { digest: sha(file), mediaType: 'application/pdf', size: file.length, filename: 'IO-218.pdf' } }],
      }),
    );
    expect(consultation.status, JSON.stringify(consultation.body)).toBe(201);
    const documentPath = `/v1/consultations/${consultation.body.id}/documents/0/attachment`;
    expect(sha((await download('KHM', documentPath)).bytes)).toBe(sha(file));
    expect((await download('THA', documentPath)).status).toBe(404);

    const cso = await stack.client('secretariat').request<{ apiKey: string }>('POST', '/v1/csos', {
      name: 'Steppe Water Alliance',
      linkBody: 'Standing Committee',
      accreditedUntil: futureIso(365 * 86_400_000),
      contact: { name: 'A. Contact', email: 'contact@example.org' },
    });
    const org = stack.client('secretariat').withKey(cso.body.apiKey);
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(10_000)]);
    const pngUpload = await fetch(`${stack.baseUrl}/v1/attachments`, { method: 'POST', headers: { authorization: `Bearer ${cso.body.apiKey}`, 'content-type': 'application/octet-stream' }, body: png });
    expect(pngUpload.status).toBe(201);
    const statement = await org.request<{ statementId: string }>(
      'POST',
      '/v1/cso-statements',
      { subject: 'Water rights', body: 'See the map.', language: 'en', attachments: [{ digest: sha(png), filename: 'basin.png' }] },
      { 'idempotency-key': randomUUID() },
    );
    expect(statement.status, JSON.stringify(statement.body)).toBe(201);
    const statementPath = `/v1/cso-statements/${statement.body.statementId}/attachments/${sha(png)}`;
    const got = await download('secretariat', statementPath);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(sha(got.bytes)).toBe(sha(png));
    // The committee sees only what was forwarded to it.
    expect((await download('committee', statementPath)).status).toBe(404);
  });
});
