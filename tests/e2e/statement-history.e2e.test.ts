import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReplayCommand } from '@consult/replay';
import { CsoApi, type ConsultationClient } from '@consult/sdk';
import { consultationInput, futureIso, Stack } from '../support/stack.js';

const run = promisify(execFile);

interface HistoryItem {
  key: string;
  type: string;
  sequence: number;
  previousHash: string | null;
  hash: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

describe('a statement’s hash-chained history and its state at a past moment', () => {
  let stack: Stack;
  let dir: string;
  beforeAll(async () => {
    stack = await new Stack().start();
    dir = await mkdtemp(join(tmpdir(), 'statement-history-'));
  });
  afterAll(async () => {
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const secretariat = (): CsoApi => new CsoApi(stack.client('secretariat'));
  async function accredit(name: string): Promise<ConsultationClient> {
    return (await accreditOrg(name)).client;
  }
  async function accreditOrg(name: string): Promise<{ id: string; apiKey: string; client: ConsultationClient }> {
    const created = await secretariat().accredit({
      name,
      linkBody: 'Standing Committee',
      accreditedUntil: futureIso(365 * 86_400_000),
      contact: { name: 'A. Contact', email: 'contact@example.org' },
    });
    expect(created.status).toBe(201);
    return { id: created.body.id, apiKey: created.body.apiKey!, client: stack.client('secretariat').withKey(created.body.apiKey!) };
  }
  const docScript = async (name: string): Promise<string> => {
    const doc = await readFile(new URL('../../docs/audit-export.md', import.meta.url), 'utf8');
    const match = new RegExp('```\\w+ file=' + name.replace('.', '\\.') + '\\n([\\s\\S]*?)```').exec(doc);
    expect(match, `docs/audit-export.md holds ${name}`).not.toBeNull();
    return match![1]!;
  };
  const runs = (command: string, args: string[]) =>
    run(command, args).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
  const history = (client: ConsultationClient, id: string, query = '') =>
    client.request<{ items: HistoryItem[]; next: string | null }>('GET', `/v1/cso-statements/${id}/history${query}`);
  const asOf = (client: ConsultationClient, id: string, at: string) =>
    client.request<{ status: string; asOf: string; history: { status: string }[] }>('GET', `/v1/cso-statements/${id}?asOf=${encodeURIComponent(at)}`);
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('exports every organisation’s stream beside the consultations, with its attachment references, and the outside verifiers check both', async () => {
    const org = await accreditOrg('Aral Sea Coalition');
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(5_000)]);
    const digest = createHash('sha256').update(png).digest('hex');
    const uploaded = await fetch(`${stack.baseUrl}/v1/attachments`, { method: 'POST', headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'image/png' }, body: png });
    expect(uploaded.status).toBe(201);
    const submitted = await new CsoApi(org.client).submitStatement(
      { subject: 'Aral basin', body: 'See the map.', language: 'en', attachments: [{ digest, filename: 'basin.png' }] },
      randomUUID(),
    );
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    const statementId = submitted.body.statementId;
    expect((await secretariat().review(statementId)).status).toBe(200);
    const consultation = await stack.client('secretariat').createConsultation(consultationInput({ addressees: ['KHM'] }));
    expect(consultation.status).toBe(201);

    const file = join(dir, 'export.ndjson');
    const out: string[] = [];
    const deps = { kafka: stack.kafka, redis: stack.redis, logger: stack.logger, topics: stack.topics, keyPrefix: stack.keyPrefix, out: (l: string) => void out.push(l) };
    expect(await runReplayCommand(deps, { kind: 'export', file })).toBe(0);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    const parsed = lines.map((l) => JSON.parse(l) as HistoryItem & { stream: string });
    expect(out.at(-1)).toMatch(new RegExp(`^exported ${lines.length} events of \\d+ streams to `));
    // Consultations first, then organisations; every line names its stream.
    const firstCso = parsed.findIndex((e) => e.stream === 'cso.events');
    expect(firstCso).toBeGreaterThan(0);
    expect(parsed.slice(0, firstCso).every((e) => e.stream === 'consultation.events' && e.type.startsWith('consultation.'))).toBe(true);
    expect(parsed.slice(firstCso).every((e) => e.stream === 'cso.events' && e.type.startsWith('cso.'))).toBe(true);
    expect(parsed.some((e) => e.key === consultation.body.id)).toBe(true);
    // Without `stream`, each organisation's line is its event exactly as the API's history serves it.
    const own = parsed.filter((e) => e.stream === 'cso.events' && e.key === org.id).map(({ stream: _stream, ...e }) => e);
    const served = await history(stack.client('auditor'), statementId);
    expect(own).toEqual(served.body.items);
    expect(own.map((e) => e.type)).toEqual(['cso.accredited', 'cso.statement-submitted', 'cso.statement-review-started']);
    // The statement's attachment reference is in the export (never its bytes).
    expect(own[1]!.data.attachments).toEqual([{ digest, mediaType: 'image/png', size: png.length, filename: 'basin.png' }]);
    expect(lines.every((l) => l.length < 4_000)).toBe(true);

    // Only one organisation's stream, with --cso.
    const one = join(dir, 'one-cso.ndjson');
    expect(await runReplayCommand(deps, { kind: 'export', file: one, cso: org.id })).toBe(0);
    expect((await readFile(one, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as { key: string; stream: string })).toEqual(
      own.map((e): unknown => expect.objectContaining({ key: e.key, stream: 'cso.events' })),
    );

    // The outside procedure, scripts from the documentation: intact, then with the statement's digest altered.
    await writeFile(join(dir, 'verify-export.mjs'), await docScript('verify-export.mjs'));
    await writeFile(join(dir, 'verify_export.py'), await docScript('verify_export.py'));
    const verifiers: [string, string][] = [['node', join(dir, 'verify-export.mjs')]];
    if (await run('python3', ['--version']).then(() => true, () => false)) verifiers.push(['python3', join(dir, 'verify_export.py')]);
    const consultations = new Set(parsed.filter((e) => e.stream === 'consultation.events').map((e) => e.key)).size;
    const organisations = new Set(parsed.filter((e) => e.stream === 'cso.events').map((e) => e.key)).size;
    const tampered = join(dir, 'tampered-export.ndjson');
    const at = lines.findIndex((l) => l.includes(digest));
    await writeFile(tampered, lines.map((l, i) => (i === at ? l.replace(digest, 'f'.repeat(64)) : l)).join('\n') + '\n');
    for (const [command, path] of verifiers) {
      const ok = await runs(command, [path, file, '--heads']);
      expect(ok.code, `${command}: ${ok.stdout}`).toBe(0);
      expect(ok.stdout).toMatch(new RegExp(`^${lines.length} events, ${consultations} consultations, ${organisations} organisations, 0 broken$`, 'm'));
      expect(ok.stdout.split('\n')).toContain(`${org.id} 3 ${own[2]!.hash} cso.events`);
      const bad = await runs(command, [path, tampered]);
      expect(bad.code, command).toBe(1);
      expect(bad.stdout).toContain(`BROKEN line ${at + 1}: ${org.id} sequence 2`);
      expect(bad.stdout).toMatch(/, 1 broken$/m);
    }

    // Checking a file against its reference, as the document says: SHA-256 and length of the downloaded bytes.
    const download = await fetch(`${stack.baseUrl}/v1/cso-statements/${statementId}/attachments/${digest}`, { headers: { authorization: `Bearer ${org.apiKey}` } });
    expect(download.status).toBe(200);
    const saved = join(dir, 'basin.png');
    await writeFile(saved, Buffer.from(await download.arrayBuffer()));
    if (await run('sha256sum', ['--version']).then(() => true, () => false))
      expect((await run('sha256sum', [saved])).stdout.split(' ')[0]).toBe(digest);
    expect(createHash('sha256').update(await readFile(saved)).digest('hex')).toBe(digest);
    expect((await readFile(saved)).length).toBe(png.length);
  });

  it('lets a co-signer read the history and asOf of the statement it co-signs, the lead’s other events withheld', async () => {
    const [lead, coSigner, stranger] = [await accreditOrg('Lead Forum'), await accreditOrg('Co-signing Forum'), await accreditOrg('Stranger Forum')];
    const leadApi = new CsoApi(lead.client);
    // An earlier statement of the lead alone, returned with reasons: none of the co-signer's business.
    const own = (await leadApi.submitStatement({ subject: 'Private matter', body: 'Confidential draft of the lead.', language: 'en' }, randomUUID())).body.statementId;
    expect((await secretariat().review(own)).status).toBe(200);
    expect((await secretariat().return(own, 'Not for this session')).status).toBe(200);
    const joint = (await leadApi.submitStatement({ subject: 'Joint', body: 'We, the undersigned…', language: 'en', coSigners: [coSigner.id] }, randomUUID())).body.statementId;
    await pause(20);
    expect((await new CsoApi(coSigner.client).coSign(joint)).body.status).toBe('submitted');
    await pause(20);
    expect((await secretariat().review(joint)).status).toBe(200);

    const full = (await history(lead.client, joint)).body.items;
    expect(full.map((e) => e.type)).toEqual([
      'cso.accredited',
      'cso.statement-submitted',
      'cso.statement-review-started',
      'cso.statement-returned',
      'cso.statement-submitted',
      'cso.statement-co-signed',
      'cso.statement-review-started',
    ]);
    const seen = await history(coSigner.client, joint);
    expect(seen.status, JSON.stringify(seen.body)).toBe(200);
    // The whole chain, every link in place; the events of other statements (and the accreditation) withheld
    // down to their place in it.
    expect(seen.body.items.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const [i, e] of seen.body.items.entries()) {
      const about = (full[i]!.data as { statementId?: string }).statementId === joint;
      if (about) expect(e).toEqual(full[i]);
      else expect(e).toEqual({ key: lead.id, sequence: full[i]!.sequence, previousHash: full[i]!.previousHash, hash: full[i]!.hash, redacted: true });
    }
    expect(JSON.stringify(seen.body)).not.toMatch(/Confidential draft|Not for this session|contact@example.org|keyHash/);

    // The documented verifiers check it: the co-signer's events recompute, the withheld ones hold their place.
    await writeFile(join(dir, 'verify-export.mjs'), await docScript('verify-export.mjs'));
    await writeFile(join(dir, 'verify_export.py'), await docScript('verify_export.py'));
    const verifiers: [string, string][] = [['node', join(dir, 'verify-export.mjs')]];
    if (await run('python3', ['--version']).then(() => true, () => false)) verifiers.push(['python3', join(dir, 'verify_export.py')]);
    const file = join(dir, 'co-signer.ndjson');
    await writeFile(file, seen.body.items.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const altered = join(dir, 'co-signer-altered.ndjson');
    await writeFile(altered, seen.body.items.map((e) => JSON.stringify(e).replace('We, the undersigned', 'We, the signatories')).join('\n') + '\n');
    // A withheld line's hash is taken as given, but its neighbours must still name it.
    const unlinked = join(dir, 'co-signer-unlinked.ndjson');
    await writeFile(unlinked, seen.body.items.map((e) => JSON.stringify(e.sequence === 3 ? { ...e, hash: 'a'.repeat(64) } : e)).join('\n') + '\n');
    for (const [command, path] of verifiers) {
      const ok = await runs(command, [path, file, '--heads']);
      expect(ok.code, `${command}: ${ok.stdout}`).toBe(0);
      expect(ok.stdout).toMatch(/^7 events, 1 consultations, 4 withheld, 0 broken$/m);
      expect(ok.stdout).toContain(`${lead.id} 7 ${full[6]!.hash}`);
      const bad = await runs(command, [path, altered]);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain(`BROKEN line 5: ${lead.id} sequence 5`);
      const cut = await runs(command, [path, unlinked]);
      expect(cut.code).toBe(1);
      expect(cut.stdout).toContain(`BROKEN line 4: ${lead.id} sequence 4`);
    }

    // asOf between the co-signature and the review: the earlier state, for the co-signer too.
    const between = new Date((Date.parse(full[5]!.occurredAt) + Date.parse(full[6]!.occurredAt)) / 2).toISOString();
    const then = await asOf(coSigner.client, joint, between);
    expect(then.status, JSON.stringify(then.body)).toBe(200);
    expect(then.body).toMatchObject({ status: 'submitted', asOf: between });
    // Not the lead's other statement, and nothing for an organisation that does not co-sign.
    expect((await history(coSigner.client, own)).status).toBe(404);
    expect((await asOf(coSigner.client, own, between)).status).toBe(404);
    expect((await history(stranger.client, joint)).status).toBe(404);
    expect((await asOf(stranger.client, joint, between)).status).toBe(404);
  });

  it('serves the chain that the outside verifier of docs/audit-export.md accepts, and asOf replays it', async () => {
    const author = await accredit('Steppe Water Alliance');
    const other = await accredit('Mekong Delta Forum');
    const cso = new CsoApi(author);
    const first = (await cso.submitStatement({ subject: 'Water rights', body: 'A joint monitoring body.', language: 'en' }, randomUUID())).body;
    const second = (await cso.submitStatement({ subject: 'Fisheries', body: 'Seasonal closures.', language: 'en' }, randomUUID())).body;
    await pause(20);
    expect((await secretariat().review(first.statementId)).status).toBe(200);
    await pause(20);
    expect((await secretariat().forward(first.statementId, 'For the March session')).status).toBe(200);
    await pause(20);
    expect((await secretariat().review(second.statementId)).status).toBe(200);

    // The organisation's stream from sequence 1 to the first statement's latest event: accredited, two
    // submissions, review, forwarding. The second statement's later review is not part of the first's history.
    const got = await history(stack.client('secretariat'), first.statementId);
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    const items = got.body.items;
    expect(items.map((e) => [e.sequence, e.type])).toEqual([
      [1, 'cso.accredited'],
      [2, 'cso.statement-submitted'],
      [3, 'cso.statement-submitted'],
      [4, 'cso.statement-review-started'],
      [5, 'cso.statement-forwarded'],
    ]);
    expect(got.body.next).toBeNull();
    expect(items.every((e, i) => e.previousHash === (i === 0 ? null : items[i - 1]!.hash))).toBe(true);

    // Pages follow `next`.
    const page1 = await history(stack.client('auditor'), first.statementId, '?limit=2');
    expect(page1.body.items.map((e) => e.sequence)).toEqual([1, 2]);
    expect(page1.body.next).toBe('2');
    const page3 = await history(stack.client('auditor'), first.statementId, '?after=4&limit=2');
    expect(page3.body.items.map((e) => e.sequence)).toEqual([5]);
    expect(page3.body.next).toBeNull();

    // The outside procedure, with the scripts taken from the documentation itself.
    const doc = await readFile(new URL('../../docs/audit-export.md', import.meta.url), 'utf8');
    const script = (name: string): string => new RegExp('```\\w+ file=' + name.replace('.', '\\.') + '\\n([\\s\\S]*?)```').exec(doc)![1]!;
    await writeFile(join(dir, 'verify-export.mjs'), script('verify-export.mjs'));
    await writeFile(join(dir, 'verify_export.py'), script('verify_export.py'));
    const file = join(dir, 'statement.ndjson');
    await writeFile(file, items.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const tampered = join(dir, 'tampered.ndjson');
    await writeFile(tampered, items.map((e) => JSON.stringify(e).replace('For the March session', 'For the April session')).join('\n') + '\n');
    const verifiers: [string, string][] = [['node', join(dir, 'verify-export.mjs')]];
    if (await run('python3', ['--version']).then(() => true, () => false)) verifiers.push(['python3', join(dir, 'verify_export.py')]);
    for (const [command, path] of verifiers) {
      const ok = await run(command, [path, file, '--heads']);
      expect(ok.stdout).toContain(`${first.csoId} 5 ${items[4]!.hash}`);
      expect(ok.stdout).toMatch(/5 events, 1 consultations, 0 broken/);
      const bad = await run(command, [path, tampered]).then(() => ({ code: 0, stdout: '' }), (e: { code: number; stdout: string }) => e);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain(`BROKEN line 5: ${first.csoId} sequence 5`);
    }

    // asOf between the review and the forwarding: the earlier state, replayed through the domain.
    const reviewedAt = Date.parse(items[3]!.occurredAt);
    const forwardedAt = Date.parse(items[4]!.occurredAt);
    expect(forwardedAt).toBeGreaterThan(reviewedAt);
    const between = new Date((reviewedAt + forwardedAt) / 2).toISOString();
    for (const client of [stack.client('secretariat'), stack.client('auditor'), author]) {
      const then = await asOf(client, first.statementId, between);
      expect(then.status, JSON.stringify(then.body)).toBe(200);
      expect(then.body).toMatchObject({ status: 'under-review', asOf: between });
      expect(then.body.history.map((h) => h.status)).toEqual(['submitted', 'under-review']);
    }
    expect((await asOf(author, first.statementId, new Date(forwardedAt).toISOString())).body.status).toBe('forwarded');
    const live = await cso.statement(first.statementId);
    const now = await asOf(author, first.statementId, new Date().toISOString());
    expect({ ...now.body, asOf: undefined }).toEqual({ ...live.body, asOf: undefined });
    // Before it was submitted it did not exist.
    const before = await asOf(stack.client('secretariat'), first.statementId, new Date(Date.parse(items[1]!.occurredAt) - 1).toISOString());
    expect(before.status).toBe(404);

    // The organisation's own only: another organisation gets 404; the committee and member states 403.
    for (const [client, status] of [[other, 404], [stack.client('committee'), 403], [stack.client('KHM'), 403]] as const) {
      expect((await history(client, first.statementId)).status).toBe(status);
      expect((await asOf(client, first.statementId, between)).status).toBe(status);
    }
    expect((await history(stack.client('secretariat'), randomUUID())).status).toBe(404);
    expect((await asOf(stack.client('secretariat'), first.statementId, 'yesterday')).status).toBe(400);
  });
});
