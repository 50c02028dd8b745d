import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEV_KEYS } from '@consult/admin';
import { DirectoryStore } from '@consult/attachments';
import { CsoApi } from '@consult/sdk';
import { consultationInput, futureIso, Stack } from '../support/stack.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const MAIN = fileURLToPath(new URL('../../services/replay/dist/main.js', import.meta.url));

/**
 * `npm run replay -- --verify --attachments` as an operator runs it: the built command line (services/replay,
 * `tsc -b` builds it) in a process of its own, configured only by its environment, against this stack's topics,
 * key space and attachment directory.
 */
describe('the replay command line: --verify --attachments', () => {
  let stack: Stack;
  let dir: string;
  let store: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'replay-cli-'));
    store = join(dir, 'attachments');
    stack = await new Stack({ gatewayOptions: { attachments: new DirectoryStore(store) } }).start();
  });
  afterAll(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const replay = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [MAIN, ...args],
        {
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            KAFKA_BROKERS: inject('kafkaBrokers'),
            REDIS_URL: inject('redisUrl'),
            TOPIC_PREFIX: stack.topicPrefix,
            KEY_PREFIX: stack.keyPrefix,
            ATTACHMENTS_DIR: store,
            LOG_LEVEL: 'warn',
          },
          timeout: 60_000,
        },
        (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const upload = async (secret: string, bytes: Buffer): Promise<void> => {
    const response = await fetch(`${stack.baseUrl}/v1/attachments`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/octet-stream' }, body: bytes });
    expect(response.status, await response.clone().text()).toBe(201);
  };

  it('exits 0 when every referenced file is stored intact, and 1 naming each missing or altered one', async () => {
    expect(existsSync(MAIN), `${MAIN} is built by tsc -b`).toBe(true);
    // A comment's PDF (consultation.events) and a statement's PNG (cso.events).
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(50_000), Buffer.from('\n%%EOF\n')]);
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(20_000)]);
    await upload(DEV_KEYS.KHM.secret, pdf);
    const consultation = await stack.client('secretariat').createConsultation(consultationInput({ addressees: ['KHM'] }));
    const id = consultation.body.id;
    const comment = await stack
      .client('KHM')
      .request('POST', `/v1/consultations/${id}/comments`, { body: 'See the enclosed paper.', language: 'en', attachments: [{ digest: sha(pdf) }] }, { 'idempotency-key': randomUUID() });
    expect(comment.status, JSON.stringify(comment.body)).toBe(201);
    const cso = await new CsoApi(stack.client('secretariat')).accredit({
      name: 'Aral Sea Coalition',
      linkBody: 'Standing Committee',
      accreditedUntil: futureIso(365 * 86_400_000),
      contact: { name: 'A. Contact', email: 'contact@example.org' },
    });
    await upload(cso.body.apiKey!, png);
    const statement = await new CsoApi(stack.client('secretariat').withKey(cso.body.apiKey!)).submitStatement(
      { subject: 'Aral basin', body: 'See the map.', language: 'en', attachments: [{ digest: sha(png), filename: 'basin.png' }] },
      randomUUID(),
    );
    expect(statement.status, JSON.stringify(statement.body)).toBe(201);

    const ok = await replay('--verify', '--attachments');
    expect(ok.code, ok.stderr).toBe(0);
    const lines = ok.stdout.trimEnd().split('\n');
    // Two consultation-side events (opened, comment) in one stream; accreditation and statement in another.
    expect(lines[0]).toMatch(/^verified 4 events in 2 streams in [\d.]+ s \(\d+ events\/s\): 0 broken$/);
    expect(lines[1]).toBe(`verified 2 referenced attachments in directory ${store}: 0 missing or altered`);
    expect(lines).toHaveLength(2);
    // Without --attachments, only the chains.
    const chains = await replay('--verify');
    expect(chains.code).toBe(0);
    expect(chains.stdout.trimEnd().split('\n')).toEqual([expect.stringMatching(/^verified 4 events in 2 streams .*: 0 broken$/)]);

    // One file's bytes altered in the store, the other's removed.
    const path = (digest: string) => join(store, 'sha256', digest.slice(0, 2), digest);
    await writeFile(path(sha(pdf)), Buffer.concat([pdf.subarray(0, -1), Buffer.from('!')]));
    await unlink(path(sha(png)));
    const bad = await replay('--verify', '--attachments');
    expect(bad.code, bad.stderr).toBe(1);
    expect(bad.stdout).toContain(`ATTACHMENT MISMATCH: ${sha(pdf)} (${pdf.length} bytes), referenced by ${id} sequence 2`);
    expect(bad.stdout).toContain(`ATTACHMENT MISSING: ${sha(png)} (${png.length} bytes), referenced by ${cso.body.id} sequence 2`);
    expect(bad.stdout.trimEnd().split('\n').at(-1)).toBe(`verified 2 referenced attachments in directory ${store}: 2 missing or altered`);
    // The chains themselves are intact: only the files are wrong.
    expect(bad.stdout).toMatch(/: 0 broken$/m);

    // A usage error is exit 2.
    const usage = await replay('--no-such-option');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage:');
  });
});
