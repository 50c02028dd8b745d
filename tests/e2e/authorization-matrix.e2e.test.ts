import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { DEV_KEYS, revokeKey } from '@consult/admin';
import { BatchingProducer } from '@consult/kafka';
import { sha256Hex } from '@consult/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw } from '../support/http.js';
import { consultationInput, futureIso, Stack } from '../support/stack.js';

/**
 * Every route × every kind of principal, from one table (docs/security.md, "Who may do what"). A 403 depends
 * only on the kind of principal; a resource the caller may not see answers exactly as one that does not exist
 * (404). Each cell is one real request against the real stack. A second pass asks every route about resources
 * that do not exist: whoever was refused by kind (403) must be refused the same way, so a 403 never tells
 * whether something exists.
 */

const PRINCIPALS = [
  'sec',
  'addressee',
  'nonAddressee',
  'cso',
  'lapsedCso',
  'revokedCso',
  'committee',
  'auditor',
  'unknownKey',
  'expiredKey',
  'revokedKey',
] as const;
type PrincipalName = (typeof PRINCIPALS)[number];
/** An expected status, or the statuses one of which is right (noted where). */
type Cell = number | readonly number[];

interface Row {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: () => unknown;
  /** Bytes sent as they are (an upload), instead of a JSON body. */
  rawBody?: () => Uint8Array;
  headers?: () => Record<string, string>;
  expect: Record<PrincipalName, Cell>;
}

/** The same answer for every principal but some. */
const all = (status: number, except: Partial<Record<PrincipalName, Cell>> = {}): Record<PrincipalName, Cell> =>
  Object.fromEntries(PRINCIPALS.map((p) => [p, except[p] ?? status])) as Record<PrincipalName, Cell>;
/** Keys that authenticate nobody. */
const NOBODY = { revokedCso: 401, unknownKey: 401, expiredKey: 401, revokedKey: 401 } as const;
const key = () => ({ 'idempotency-key': randomUUID() });
/** A small PDF (uploads are judged by their bytes), and its SHA-256. */
const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n% matrix\n'), randomBytes(2_000), Buffer.from('\n%%EOF\n')]);
const PDF_DIGEST = createHash('sha256').update(PDF).digest('hex');

describe('authorization matrix: every route × every principal', () => {
  let stack: Stack;
  const keys = {} as Record<PrincipalName, string>;
  const ids: Record<string, string> = {};
  let cells = 0;
  /** The consultation's documents, the first with a file (a corrigendum issued here keeps it). */
  let documents: Record<string, unknown>[] = [];
  let ghostCells = 0;

  async function accredit(name: string, until: string): Promise<{ id: string; apiKey: string }> {
    const created = await stack.client('secretariat').csos.accredit({ name, linkBody: 'Standing Committee', accreditedUntil: until, contact: { name: 'C', email: 'c@example.org' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return { id: created.body.id, apiKey: String(created.body.apiKey) };
  }

  async function statement(apiKey: string, extra: Record<string, unknown> = {}): Promise<string> {
    const answer = await raw(stack.baseUrl, { method: 'POST', path: '/v1/cso-statements', key: apiKey, headers: key(), body: JSON.stringify({ subject: 'S', body: 'B', language: 'en', ...extra }) });
    expect(answer.status, answer.text).toBe(201);
    return String(answer.json?.statementId);
  }

  const move = async (id: string, step: string, as = DEV_KEYS.secretariat.secret) =>
    expect((await raw(stack.baseUrl, { method: 'POST', path: `/v1/cso-statements/${id}/${step}`, key: as })).status).toBe(200);

  beforeAll(async () => {
    stack = await new Stack().start();
    const sec = stack.client('secretariat');
    keys.sec = DEV_KEYS.secretariat.secret;
    keys.addressee = DEV_KEYS.KHM.secret;
    keys.nonAddressee = DEV_KEYS.MNG.secret;
    keys.committee = DEV_KEYS.committee.secret;
    keys.auditor = DEV_KEYS.auditor.secret;
    keys.unknownKey = `cmk_${randomUUID()}`;

    const upload = await raw(stack.baseUrl, { method: 'POST', path: '/v1/attachments', key: keys.sec, headers: { 'content-type': 'application/pdf' }, body: PDF });
    expect(upload.status, upload.text).toBe(201);
    const file = { digest: PDF_DIGEST, mediaType: 'application/pdf', size: PDF.length };
    ids.digest = PDF_DIGEST;
    documents = consultationInput().documents.map((d, i) => (i === 0 ? { ...d, attachment: file } : d));
    const consultation = (await sec.createConsultation(consultationInput({ reference: 'IO/AUTH', addressees: ['KHM', 'THA', 'KAZ'], documents }))).body;
    ids.consultation = consultation.id;
    // Under silence procedure and without comments yet, for the nil returns and silence breaks.
    ids.silent = (await sec.createConsultation(consultationInput({ reference: 'IO/AUTH/S', addressees: ['KHM', 'THA'], procedure: 'silence' }))).body.id;
    const khm = stack.client('KHM');
    ids.comment = (await khm.postComment(consultation.id, { body: 'To read and amend', language: 'en' }, 'auth-1')).body.commentId;
    ids.commentToWithdraw = (await khm.postComment(consultation.id, { body: 'To withdraw', language: 'en' }, 'auth-2')).body.commentId;
    const withFile = await raw(stack.baseUrl, {
      method: 'POST',
      path: `/v1/consultations/${consultation.id}/comments`,
      key: keys.addressee,
      headers: key(),
      body: JSON.stringify({ body: 'With a file', language: 'en', attachments: [{ digest: PDF_DIGEST, filename: 'note.pdf' }] }),
    });
    expect(withFile.status, withFile.text).toBe(201);
    ids.commentWithFile = String(withFile.json?.commentId);

    const cso = await accredit('Matrix CSO', futureIso(365 * 86_400_000));
    keys.cso = cso.apiKey;
    ids.cso = cso.id;
    const lapsed = await accredit('Lapsing CSO', futureIso(2_000));
    keys.lapsedCso = lapsed.apiKey;
    const revoked = await accredit('Revoked CSO', futureIso(365 * 86_400_000));
    keys.revokedCso = revoked.apiKey;
    ids.renewTarget = (await accredit('Renewed CSO', futureIso(86_400_000))).id;
    ids.revokeTarget = (await accredit('Target CSO', futureIso(86_400_000))).id;

    ids.submitted = await statement(cso.apiKey);
    ids.toReview = await statement(cso.apiKey);
    ids.toForward = await statement(cso.apiKey);
    await move(ids.toForward, 'review');
    ids.toReturn = await statement(cso.apiKey);
    await move(ids.toReturn, 'review');
    ids.forwarded = await statement(cso.apiKey);
    await move(ids.forwarded, 'review');
    await move(ids.forwarded, 'forwarding');
    ids.statementWithFile = await statement(cso.apiKey, { attachments: [{ digest: PDF_DIGEST, filename: 'note.pdf' }] });
    // Statements of another organisation that name the matrix CSO as a co-signer.
    const lead = await accredit('Lead CSO', futureIso(365 * 86_400_000));
    ids.toCoSign = await statement(lead.apiKey, { coSigners: [cso.id] });
    ids.toRefuse = await statement(lead.apiKey, { coSigners: [cso.id] });

    const subscription = await sec.subscriptions.create({ url: 'http://127.0.0.1:9/matrix', events: ['consultation.opened'], secret: 's'.repeat(24) });
    ids.subscription = subscription.body.id;

    expect((await raw(stack.baseUrl, { method: 'POST', path: `/v1/csos/${revoked.id}/revocation`, key: keys.sec, body: JSON.stringify({ reason: 'Matrix' }) })).status).toBe(200);

    const extra = await stack.issueKey({ kind: 'member-state', id: 'LAO', name: 'Lao PDR' });
    keys.revokedKey = extra.secret;
    const producer = new BatchingProducer(stack.kafka, stack.logger);
    await producer.connect();
    await revokeKey(producer, stack.topics, { keyId: extra.keyId, keyHash: sha256Hex(extra.secret) }, 'matrix');
    await producer.close();
    // The strongest kind of key, once its expiry has passed.
    keys.expiredKey = (await stack.issueKey({ kind: 'secretariat', id: 'secretariat', expiresAt: futureIso(3_000) })).secret;

    // Revocations reach every gateway through the identity events; the lapse comes with time.
    const status = async (k: string) => (await raw(stack.baseUrl, { method: 'GET', path: '/v1/subscriptions', key: k })).status;
    await stack.until(async () => (await status(keys.revokedKey)) === 401 && (await status(keys.revokedCso)) === 401, 20_000, 'revocations');
    await stack.until(async () => (await status(keys.expiredKey)) === 401, 10_000, 'the expiry');
    await stack.until(
      async () => (await raw(stack.baseUrl, { method: 'GET', path: `/v1/csos/${lapsed.id}`, key: keys.sec })).json?.status === 'lapsed',
      10_000,
      'the lapse',
    );
  });

  afterAll(async () => {
    console.log(
      `authorization matrix: ${rows().length} routes × ${PRINCIPALS.length} principals = ${cells} cells asserted, ${ghostCells} more about resources that do not exist`,
    );
    await stack?.stop();
  });

  const c = '/v1/consultations/{consultation}';
  const rows = (): Row[] => [
    // consultations
    { method: 'POST', path: '/v1/consultations', body: () => consultationInput({ reference: 'IO/M' }), expect: all(403, { sec: 201, ...NOBODY }) },
    { method: 'GET', path: '/v1/consultations', expect: all(403, { sec: 200, addressee: 200, nonAddressee: 200, auditor: 200, ...NOBODY }) },
    { method: 'GET', path: c, expect: all(403, { sec: 200, addressee: 200, nonAddressee: 404, auditor: 200, ...NOBODY }) },
    { method: 'GET', path: `${c}?asOf=${encodeURIComponent(futureIso(0))}`, expect: all(403, { sec: 200, auditor: 200, ...NOBODY }) },
    { method: 'GET', path: `${c}/history`, expect: all(403, { sec: 200, auditor: 200, ...NOBODY }) },
    {
      method: 'POST',
      path: `${c}/deadline-extensions`,
      body: () => ({ deadline: futureIso(90 * 86_400_000), reason: 'Matrix' }),
      expect: all(403, { sec: 201, ...NOBODY }),
    },
    {
      method: 'POST',
      path: `${c}/document-versions`,
      headers: key,
      body: () => ({ kind: 'corrigendum', documents, note: 'Matrix' }),
      expect: all(403, { sec: 201, ...NOBODY }),
    },
    // diplomatic practice: an addressee's nil return and silence break; a non-addressee is told nothing exists
    { method: 'POST', path: '/v1/consultations/{silent}/no-comments', expect: all(403, { addressee: 201, nonAddressee: 404, ...NOBODY }) },
    { method: 'POST', path: '/v1/consultations/{silent}/silence-breaks', body: () => ({ reason: 'Matrix' }), expect: all(403, { addressee: 201, nonAddressee: 404, ...NOBODY }) },
    // comments
    { method: 'POST', path: `${c}/comments`, headers: key, body: () => ({ body: 'Matrix', language: 'en' }), expect: all(403, { addressee: 201, nonAddressee: 404, ...NOBODY }) },
    { method: 'GET', path: `${c}/comments`, expect: all(403, { sec: 200, addressee: 200, nonAddressee: 404, auditor: 200, ...NOBODY }) },
    { method: 'GET', path: `${c}/comments/{comment}`, expect: all(403, { sec: 200, addressee: 200, nonAddressee: 404, auditor: 200, ...NOBODY }) },
    { method: 'PUT', path: `${c}/comments/{comment}`, body: () => ({ body: `Amended ${randomUUID()}`, language: 'en' }), expect: all(403, { addressee: 200, nonAddressee: 404, ...NOBODY }) },
    { method: 'DELETE', path: `${c}/comments/{commentToWithdraw}`, expect: all(403, { addressee: 200, nonAddressee: 404, ...NOBODY }) },
    // attachments: uploads by those who write; a download for whoever may read what the file is attached to
    {
      method: 'POST',
      path: '/v1/attachments',
      headers: () => ({ 'content-type': 'application/pdf' }),
      rawBody: () => PDF,
      // A lapsed CSO may not submit, so it has nothing to attach files to.
      expect: all(403, { sec: 201, addressee: 201, nonAddressee: 201, cso: 201, ...NOBODY }),
    },
    { method: 'GET', path: `${c}/comments/{commentWithFile}/attachments/{digest}`, expect: all(403, { sec: 200, addressee: 200, nonAddressee: 404, auditor: 200, ...NOBODY }) },
    { method: 'GET', path: `${c}/documents/0/attachment`, expect: all(403, { sec: 200, addressee: 200, nonAddressee: 404, auditor: 200, ...NOBODY }) },
    {
      method: 'GET',
      path: '/v1/cso-statements/{statementWithFile}/attachments/{digest}',
      expect: all(403, { sec: 200, cso: 200, lapsedCso: 404, committee: 404, auditor: 200, ...NOBODY }),
    },
    // reports
    { method: 'GET', path: '/v1/reports/progress', expect: all(403, { sec: 200, auditor: 200, ...NOBODY }) },
    { method: 'GET', path: '/v1/reports/progress?format=csv', expect: all(403, { sec: 200, auditor: 200, ...NOBODY }) },
    // who the key belongs to
    { method: 'GET', path: '/v1/me', expect: all(200, NOBODY) },
    // commands: nobody sent this id
    { method: 'GET', path: `/v1/commands/${randomUUID()}`, expect: all(404, NOBODY) },
    // CSOs
    {
      method: 'POST',
      path: '/v1/csos',
      body: () => ({ name: 'New', linkBody: 'SC', accreditedUntil: futureIso(86_400_000), contact: { name: 'N', email: 'n@example.org' } }),
      expect: all(403, { sec: 201, ...NOBODY }),
    },
    { method: 'GET', path: '/v1/csos', expect: all(403, { sec: 200, cso: 200, lapsedCso: 200, auditor: 200, ...NOBODY }) },
    { method: 'GET', path: '/v1/csos/{cso}', expect: all(403, { sec: 200, cso: 200, lapsedCso: 404, auditor: 200, ...NOBODY }) },
    { method: 'POST', path: '/v1/csos/{renewTarget}/renewal', body: () => ({ accreditedUntil: futureIso(400 * 86_400_000) }), expect: all(403, { sec: 200, ...NOBODY }) },
    { method: 'POST', path: '/v1/csos/{revokeTarget}/revocation', body: () => ({ reason: 'Matrix' }), expect: all(403, { sec: 200, ...NOBODY }) },
    // statements
    {
      method: 'POST',
      path: '/v1/cso-statements',
      headers: key,
      body: () => ({ subject: 'S', body: 'B', language: 'en' }),
      // A revoked CSO is told where it submits that its accreditation is gone (403 cso-not-accredited); elsewhere its key is simply refused (401).
      expect: all(403, { cso: 201, ...NOBODY, revokedCso: 403 }),
    },
    { method: 'GET', path: '/v1/cso-statements', expect: all(403, { sec: 200, cso: 200, lapsedCso: 200, committee: 200, auditor: 200, ...NOBODY }) },
    { method: 'GET', path: '/v1/cso-statements/{submitted}', expect: all(403, { sec: 200, cso: 200, lapsedCso: 404, committee: 404, auditor: 200, ...NOBODY }) },
    { method: 'POST', path: '/v1/cso-statements/{toReview}/review', expect: all(403, { sec: 200, ...NOBODY }) },
    { method: 'POST', path: '/v1/cso-statements/{toForward}/forwarding', body: () => ({ note: 'N' }), expect: all(403, { sec: 200, ...NOBODY }) },
    { method: 'POST', path: '/v1/cso-statements/{toReturn}/return', body: () => ({ reasons: 'R' }), expect: all(403, { sec: 200, ...NOBODY }) },
    { method: 'POST', path: '/v1/cso-statements/{forwarded}/acknowledgement', expect: all(403, { committee: 200, ...NOBODY }) },
    { method: 'GET', path: '/v1/cso-statements/{submitted}/history', expect: all(403, { sec: 200, cso: 200, lapsedCso: 404, auditor: 200, ...NOBODY }) },
    // co-signing: only the organisation a statement names (a CSO it does not name cannot tell the statement exists)
    { method: 'POST', path: '/v1/cso-statements/{toCoSign}/co-signature', expect: all(403, { cso: 200, lapsedCso: 404, ...NOBODY }) },
    {
      method: 'POST',
      path: '/v1/cso-statements/{toRefuse}/co-signature/refusal',
      body: () => ({ reason: 'Matrix' }),
      expect: all(403, { cso: 200, lapsedCso: 404, ...NOBODY }),
    },
    // subscriptions: anyone but auditors, each only its own
    {
      method: 'POST',
      path: '/v1/subscriptions',
      body: () => ({ url: 'http://127.0.0.1:9/m', events: ['consultation.opened'], secret: 's'.repeat(24) }),
      expect: all(201, { auditor: 403, ...NOBODY }),
    },
    { method: 'GET', path: '/v1/subscriptions', expect: all(200, NOBODY) },
    { method: 'GET', path: '/v1/subscriptions/{subscription}', expect: all(404, { sec: 200, ...NOBODY }) },
    { method: 'GET', path: '/v1/subscriptions/{subscription}/deliveries', expect: all(404, { sec: 200, ...NOBODY }) },
    { method: 'POST', path: `/v1/subscriptions/{subscription}/deliveries/${randomUUID()}/redelivery`, expect: all(404, NOBODY) },
    { method: 'POST', path: '/v1/subscriptions/{subscription}/secret-rotation', body: () => ({ overlapSeconds: 60 }), expect: all(404, { sec: 200, ...NOBODY }) },
    { method: 'DELETE', path: '/v1/subscriptions/{subscription}', expect: all(404, { sec: 204, ...NOBODY }) },
    // live events: anyone with a key, filtered to what it may see
    { method: 'GET', path: '/v1/events', expect: all(200, NOBODY) },
    // public
    { method: 'GET', path: '/healthz', expect: all(200) },
    { method: 'GET', path: '/readyz', expect: all(200) },
    { method: 'GET', path: '/problems/forbidden', expect: all(200) },
    { method: 'GET', path: '/docs/json', expect: all(200) },
  ];

  /** Resources that do not exist, in the shape of each placeholder. */
  const ghost = (name: string): string => (name === 'digest' ? randomBytes(32).toString('hex') : randomUUID());

  async function status(row: Row, principal: PrincipalName, fill: (name: string) => string = (name) => ids[name]!): Promise<number> {
    const path = row.path.replace(/\{(\w+)\}/g, (_, name: string) => fill(name));
    const controller = new AbortController();
    const response = await fetch(`${stack.baseUrl}${path}`, {
      method: row.method,
      headers: {
        authorization: `Bearer ${keys[principal]}`,
        ...(row.body ? { 'content-type': 'application/json' } : {}),
        ...(row.headers?.() ?? {}),
      },
      ...(row.body ? { body: JSON.stringify(row.body()) } : row.rawBody ? { body: row.rawBody() } : {}),
      signal: controller.signal,
    });
    // An event stream does not end: its status is the answer.
    if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) controller.abort();
    else await response.arrayBuffer();
    return response.status;
  }

  it('answers each route for each principal exactly as the table says', async () => {
    for (const row of rows()) {
      const got: Partial<Record<PrincipalName, number>> = {};
      for (const principal of PRINCIPALS) {
        got[principal] = await status(row, principal);
        cells++;
      }
      const wrong = PRINCIPALS.filter((p) => {
        const want = row.expect[p];
        return typeof want === 'number' ? got[p] !== want : !want.includes(got[p]!);
      }).map((p) => `${p}: got ${got[p]}, expected ${JSON.stringify(row.expect[p])}`);
      expect.soft(wrong, `${row.method} ${row.path}`).toEqual([]);
    }
  });

  it('refuses by kind before looking anything up: a 403 is the same for a resource that does not exist', async () => {
    for (const row of rows().filter((r) => /\{\w+\}/.test(r.path))) {
      const wrong: string[] = [];
      for (const principal of PRINCIPALS) {
        const want = row.expect[principal];
        if (want !== 403 && want !== 401) continue;
        const got = await status(row, principal, ghost);
        ghostCells++;
        if (got !== want) wrong.push(`${principal}: got ${got}, expected ${want} as for the real one`);
      }
      expect.soft(wrong, `${row.method} ${row.path} (not existing)`).toEqual([]);
    }
  });
});
