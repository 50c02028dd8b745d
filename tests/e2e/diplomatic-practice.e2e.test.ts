/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-call --
   the API's answers are read as loose JSON here; the assertions check their shape. */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '@consult/devstack';
import { exportEvents } from '@consult/replay';
import { consultationInput, futureIso, Stack, type DevKeyName } from '../support/stack.js';

/** Loose shapes of the API's answers, enough for these assertions. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A webhook receiver on 127.0.0.1 that keeps every notification body. */
class Receiver {
  readonly bodies: Json[] = [];
  private server!: Server;
  url = '';
  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.bodies.push({ path: req.url, ...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('diplomatic practice on the real stack', () => {
  let stack: Stack;
  let receiver: Receiver;
  beforeAll(async () => {
    stack = await new Stack({ closeGraceMs: 500 }).start();
    receiver = await new Receiver().start();
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.stop();
  });

  const api = (name: DevKeyName, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    stack.client(name).request<Json>(method, path, body, headers);

  async function create(overrides: Record<string, unknown> = {}): Promise<Json> {
    const created = await api('secretariat', 'POST', '/v1/consultations', consultationInput(overrides));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body;
  }

  const view = async (id: string, headers: Record<string, string> = {}) => (await api('secretariat', 'GET', `/v1/consultations/${id}`, undefined, headers)).body;
  const history = async (id: string): Promise<Json[]> => (await api('auditor', 'GET', `/v1/consultations/${id}/history?limit=1000`)).body.items as Json[];
  const untilClosed = (id: string) =>
    stack.until(async () => (await view(id)).status === 'closed', 20_000, `consultation ${id} closed`);

  it('silence kept is deemed adopted at the deadline; silence broken names the breaker; a late break is refused', async () => {
    const sub = await api('RUS', 'POST', '/v1/subscriptions', {
      url: `${receiver.url}/rus-closings`,
      events: ['consultation.closed'],
      secret: 'whsec-test-0123456789abcdef',
    });
    expect(sub.status).toBe(201);
    const kept = await create({ procedure: 'silence', deadline: futureIso(3_000), addressees: ['KAZ', 'RUS', 'THA'] });
    const broken = await create({ procedure: 'silence', deadline: futureIso(3_000), addressees: ['KAZ', 'RUS', 'THA'] });
    expect(kept.procedure).toBe('silence');
    expect(kept.silence).toEqual({ brokenBy: [], outcome: null });

    const brk = await api('RUS', 'POST', `/v1/consultations/${broken.id}/silence-breaks`, { reason: 'Rule 12 needs consensus' });
    expect(brk.status, JSON.stringify(brk.body)).toBe(201);
    expect(brk.body).toMatchObject({ memberState: 'RUS', status: 'silence-broken', reason: 'Rule 12 needs consensus' });
    const again = await api('RUS', 'POST', `/v1/consultations/${broken.id}/silence-breaks`, { reason: 'again' });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.receivedAt).toBe(brk.body.receivedAt);
    // Not an addressee: to KHM the consultation does not exist (docs/security.md), as for its comments.
    const outsider = await api('KHM', 'POST', `/v1/consultations/${broken.id}/silence-breaks`, { reason: 'x' });
    expect(outsider.status).toBe(404);
    expect(outsider.problem?.code).toBe('consultation-not-found');
    const notSilence = await create();
    expect((await api('KAZ', 'POST', `/v1/consultations/${notSilence.id}/silence-breaks`, { reason: 'x' })).problem?.code).toBe(
      'not-under-silence-procedure',
    );

    await Promise.all([untilClosed(kept.id), untilClosed(broken.id)]);
    expect((await view(kept.id)).silence).toEqual({ brokenBy: [], outcome: 'deemed-adopted' });
    const brokenView = await view(broken.id);
    expect(brokenView.silence).toEqual({
      outcome: 'silence-broken',
      brokenBy: [{ memberState: 'RUS', reason: 'Rule 12 needs consensus', receivedAt: brk.body.receivedAt }],
    });

    // The closing notification carries the outcome.
    const closingNotice = async (id: string) => {
      await stack.until(async () => receiver.bodies.some((b) => b.path === '/rus-closings' && b.event.key === id), 15_000, 'closing notice');
      return receiver.bodies.find((b) => b.path === '/rus-closings' && b.event.key === id)!.event;
    };
    expect((await closingNotice(kept.id)).data.silence).toEqual({ outcome: 'deemed-adopted', brokenBy: [] });
    expect((await closingNotice(broken.id)).data.silence).toMatchObject({ outcome: 'silence-broken', brokenBy: [{ memberState: 'RUS' }] });

    // The receipt-time rule: a break the gateway received after the deadline is refused.
    const late = await api('THA', 'POST', `/v1/consultations/${kept.id}/silence-breaks`, { reason: 'too late' });
    expect(late.status).toBe(409);
    expect(late.problem?.code).toBe('consultation-closed');
    expect((await view(kept.id)).silence.outcome).toBe('deemed-adopted');

    // The closing decision in the history (version 2), and asOf before and after it.
    const events = await history(broken.id);
    const closing = events.find((e) => e.type === 'consultation.closed')!;
    const breaking = events.find((e) => e.type === 'consultation.silence-broken')!;
    expect(closing).toMatchObject({ version: 2, data: { procedure: 'silence', silence: { outcome: 'silence-broken' } } });
    const before = await api('auditor', 'GET', `/v1/consultations/${broken.id}?asOf=${encodeURIComponent(breaking.occurredAt as string)}`);
    expect(before.body).toMatchObject({ status: 'open', silence: { outcome: null, brokenBy: [{ memberState: 'RUS' }] } });
    const after = await api('auditor', 'GET', `/v1/consultations/${broken.id}?asOf=${encodeURIComponent(closing.occurredAt as string)}`);
    expect(after.body).toMatchObject({ status: 'closed', silence: { outcome: 'silence-broken' } });
  });

  it('a nil return, then a comment: the matrix moves from no-comments to commented and the history keeps both', async () => {
    const c = await create();
    const nil = await api('KAZ', 'POST', `/v1/consultations/${c.id}/no-comments`);
    expect(nil.status, JSON.stringify(nil.body)).toBe(201);
    expect(nil.body).toMatchObject({ consultationId: c.id, memberState: 'KAZ', status: 'no-comments' });
    const again = await api('KAZ', 'POST', `/v1/consultations/${c.id}/no-comments`);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.receivedAt).toBe(nil.body.receivedAt);
    expect(await view(c.id)).toMatchObject({ responses: { KAZ: 'no-comments', KHM: 'pending', THA: 'pending' }, commentCount: 0, noCommentsCount: 1 });

    const posted = await stack.client('KAZ').postComment(c.id, { body: 'On reflection, one point on rule 3.', language: 'en' }, randomUUID());
    expect(posted.status).toBe(201);
    expect(await view(c.id)).toMatchObject({ responses: { KAZ: 'commented' }, commentCount: 1, noCommentsCount: 0 });
    expect((await history(c.id)).map((e) => e.type)).toEqual([
      'consultation.opened',
      'consultation.no-comments-submitted',
      'consultation.comment-submitted',
    ]);
    const withComments = await api('KAZ', 'POST', `/v1/consultations/${c.id}/no-comments`);
    expect(withComments.problem?.code).toBe('already-commented');
  });

  it('a revision mid-consultation: comments on both versions, superseded ones marked, addressees notified, asOf before and after', async () => {
    const sub = await api('KAZ', 'POST', '/v1/subscriptions', {
      url: `${receiver.url}/kaz-versions`,
      events: ['consultation.document-version-issued'],
      secret: 'whsec-test-0123456789abcdef',
    });
    expect(sub.status).toBe(201);
    const c = await create();
    expect(c.documentVersion).toMatchObject({ version: 1, symbol: 'IO/218', kind: 'original' });
    const first = await stack.client('KHM').postComment(c.id, { body: 'On the first text.', language: 'en' }, randomUUID());
    expect(first.status).toBe(201);

    const corr = await api('secretariat', 'POST', `/v1/consultations/${c.id}/document-versions`, {
      kind: 'corrigendum',
      documents: [{ language: 'en', title: 'Draft rules of procedure (corrected)', original: true }],
      note: 'Corrects paragraph numbering',
    });
    expect(corr.status, JSON.stringify(corr.body)).toBe(201);
    expect(corr.body).toMatchObject({ symbol: 'IO/218/Corr.1', version: 2, resetsDeadline: false });
    const newDeadline = futureIso(40 * 86_400_000);
    const rev = await api(
      'secretariat',
      'POST',
      `/v1/consultations/${c.id}/document-versions`,
      {
        kind: 'revision',
        documents: [
          { language: 'en', title: 'Revised draft rules of procedure', original: true },
          { language: 'ru', title: 'Пересмотренный проект правил процедуры' },
        ],
        deadline: newDeadline,
      },
      { 'idempotency-key': 'rev-1' },
    );
    expect(rev.status, JSON.stringify(rev.body)).toBe(201);
    expect(rev.body).toMatchObject({ symbol: 'IO/218/Rev.1', version: 3, resetsDeadline: true, deadline: newDeadline });
    const retried = await api('secretariat', 'POST', `/v1/consultations/${c.id}/document-versions`, { kind: 'revision', documents: [{ language: 'en', title: 'x' }] }, { 'idempotency-key': 'rev-1' });
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.body.symbol).toBe('IO/218/Rev.1');
    const second = await stack.client('THA').postComment(c.id, { body: 'On the revised text.', language: 'en' }, randomUUID());
    expect(second.status).toBe(201);

    const comments = (await api('secretariat', 'GET', `/v1/consultations/${c.id}/comments`)).body.items as Json[];
    expect(comments.map((x) => [x.memberState, x.documentVersion, x.documentSymbol, x.addressesSupersededVersion])).toEqual([
      ['KHM', 1, 'IO/218', true],
      ['THA', 3, 'IO/218/Rev.1', false],
    ]);
    const now = await view(c.id);
    expect(now).toMatchObject({ deadline: newDeadline, deadlineExtensions: 1, documentVersion: { symbol: 'IO/218/Rev.1' } });
    expect(now.documentVersions.map((v: Json) => v.symbol)).toEqual(['IO/218', 'IO/218/Corr.1', 'IO/218/Rev.1']);

    // asOf counts events by when they occurred (were recorded): just before the revision, and at the end.
    const events = await history(c.id);
    const revised = events.find((e) => e.type === 'consultation.document-version-issued' && e.data.kind === 'revision')!;
    const corrected = events.find((e) => e.type === 'consultation.document-version-issued' && e.data.kind === 'corrigendum')!;
    const justBefore = new Date(Date.parse(revised.occurredAt as string) - 1).toISOString();
    const asOf = async (t: string) => (await api('auditor', 'GET', `/v1/consultations/${c.id}?asOf=${encodeURIComponent(t)}`)).body;
    expect(await asOf(events[1]!.occurredAt as string)).toMatchObject({ documentVersion: { symbol: 'IO/218' }, deadline: c.deadline, commentCount: 1 });
    expect(await asOf(corrected.occurredAt as string)).toMatchObject({ documentVersion: { symbol: 'IO/218/Corr.1' }, deadline: c.deadline });
    if (Date.parse(justBefore) >= Date.parse(corrected.occurredAt as string))
      expect(await asOf(justBefore)).toMatchObject({ documentVersion: { symbol: 'IO/218/Corr.1' }, deadline: c.deadline });
    expect(await asOf(events[events.length - 1]!.occurredAt as string)).toMatchObject({
      documentVersion: { symbol: 'IO/218/Rev.1' },
      deadline: newDeadline,
      commentCount: 2,
    });

    await stack.until(async () => receiver.bodies.filter((b) => b.path === '/kaz-versions' && b.event.key === c.id).length === 2, 15_000, 'version notices');
    const notices = receiver.bodies.filter((b) => b.path === '/kaz-versions' && b.event.key === c.id);
    expect(notices.map((n) => n.event.data.symbol).sort()).toEqual(['IO/218/Corr.1', 'IO/218/Rev.1']);
  });

  it('a reminder to a state in UTC+5 states the deadline in its local time; a date deadline ends that day in Astana', async () => {
    const sub = await api('KAZ', 'POST', '/v1/subscriptions', {
      url: `${receiver.url}/kaz-reminders`,
      events: ['consultation.reminder-issued'],
      secret: 'whsec-test-0123456789abcdef',
    });
    expect(sub.status).toBe(201);
    const c = await create({ deadline: '2030-12-01', reminderOffsetsSeconds: [86_400] });
    expect(Date.parse(c.deadline as string)).toBe(Date.parse('2030-12-01T23:59:59.999+05:00'));
    expect(c.localDeadlines.KAZ).toEqual({ timeZone: 'Asia/Almaty', local: '2030-12-01T23:59:59.999+05:00', text: '1 December 2030, 23:59 Astana time' });
    expect(c.localDeadlines.KHM.text).toBe('2 December 2030, 01:59 Phnom Penh time');
    // The deadline service's command, stamped past the reminder point (a day before the deadline).
    await stack.sendCommand({
      id: randomUUID(),
      type: 'consultation.issue-reminder',
      version: 1,
      key: c.id,
      receivedAt: new Date(Date.parse(c.deadline as string) - 86_400_000 + 1_000).toISOString(),
      correlationId: randomUUID(),
      actor: { kind: 'system', id: 'deadline-service' },
      data: { offsetSeconds: 86_400, deadline: c.deadline },
    });
    await stack.until(async () => receiver.bodies.some((b) => b.path === '/kaz-reminders' && b.event.key === c.id), 15_000, 'reminder');
    const reminder = receiver.bodies.find((b) => b.path === '/kaz-reminders' && b.event.key === c.id)!;
    expect(reminder.event.data.localDeadlines.KAZ).toEqual({
      timeZone: 'Asia/Almaty',
      local: '2030-12-01T23:59:59.999+05:00',
      text: '1 December 2030, 23:59 Astana time',
    });
    const extended = await api('secretariat', 'POST', `/v1/consultations/${c.id}/deadline-extensions`, { deadline: '2030-12-02', reason: 'One more day' });
    expect(extended.status, JSON.stringify(extended.body)).toBe(201);
    expect(extended.body.deadline).toBe('2030-12-02T23:59:59.999+05:00');
    expect((await api('secretariat', 'POST', `/v1/consultations/${c.id}/deadline-extensions`, { deadline: '2030-02-30', reason: 'x' })).status).toBe(400);
  });

  it('Accept-Language: ru gets the Russian titles, de the original; Content-Language names the choice', async () => {
    const c = await create();
    const ru = await api('secretariat', 'GET', `/v1/consultations/${c.id}`, undefined, { 'accept-language': 'ru' });
    expect(ru.headers.get('content-language')).toBe('ru');
    expect(ru.body).toMatchObject({ language: 'ru', document: { language: 'ru', title: 'Проект правил процедуры' } });
    expect(ru.body.documentVersions[0].title).toBe('Проект правил процедуры');
    const de = await api('secretariat', 'GET', `/v1/consultations/${c.id}`, undefined, { 'accept-language': 'de-CH, de;q=0.9' });
    expect(de.headers.get('content-language')).toBe('en');
    expect(de.body).toMatchObject({ language: 'en', document: { language: 'en', title: 'Draft rules of procedure', original: true } });
    const twoOriginals = await api('secretariat', 'POST', '/v1/consultations', consultationInput({
      documents: [{ language: 'en', title: 'a', original: true }, { language: 'ru', title: 'b', original: true }],
    }));
    expect(twoOriginals.problem?.code).toBe('invalid-documents');
  });

  it('npm start seeds IO/218 with a nil return and a corrigendum, and IO/219 under silence procedure (twice, idempotently)', async () => {
    const first = await seedDemo(stack.baseUrl);
    const again = await seedDemo(stack.baseUrl);
    expect(again).toEqual(first);
    const io218 = await view(first.consultationId);
    expect(io218).toMatchObject({
      reference: 'IO/218',
      responses: { KHM: 'commented', KAZ: 'commented', MNG: 'no-comments', RUS: 'pending', THA: 'pending' },
      documentVersion: { version: 2, kind: 'corrigendum', symbol: 'IO/218/Corr.1' },
    });
    const io219 = await view(first.silenceConsultationId, { 'accept-language': 'ru' });
    expect(io219).toMatchObject({ reference: 'IO/219', procedure: 'silence', silence: { outcome: null, brokenBy: [] }, language: 'ru' });
    // "By <date>": the end of that day in Astana.
    expect(io219.secretariatDeadline.local).toMatch(/T23:59:59\.999\+05:00$/);
  });

  it('an on-time nil return and silence break that reach the writer after the closing are accepted, and the outcome is revised', async () => {
    const sub = await api('THA', 'POST', '/v1/subscriptions', {
      url: `${receiver.url}/tha-outcomes`,
      events: ['consultation.closed', 'consultation.silence-outcome-revised'],
      secret: 'whsec-test-0123456789abcdef',
    });
    expect(sub.status).toBe(201);
    const from = new Date().toISOString();
    const deadlineMs = Date.now() + 2_000;
    const c = await create({ procedure: 'silence', deadline: new Date(deadlineMs).toISOString(), addressees: ['KAZ', 'RUS', 'THA'] });
    await untilClosed(c.id);
    expect((await view(c.id)).silence).toEqual({ brokenBy: [], outcome: 'deemed-adopted' });

    // Stamped by the gateway before the deadline, held up (a broker restart) until after the closing.
    const send = async (type: string, memberState: string, receivedAtMs: number, data: Record<string, unknown>): Promise<string> => {
      const id = randomUUID();
      await stack.sendCommand({ id, type, version: 1, key: c.id, receivedAt: new Date(receivedAtMs).toISOString(), correlationId: id, actor: { kind: 'member-state', id: memberState }, data: { memberState, ...data } });
      return id;
    };
    const decided = async (name: DevKeyName, commandId: string): Promise<Json> => {
      await stack.until(async () => (await stack.readModel.outcome(stack.redis, commandId)) !== null, 20_000, `a decision on ${commandId}`);
      return (await api(name, 'GET', `/v1/commands/${commandId}`)).body;
    };
    const nil = await send('consultation.submit-no-comments', 'KAZ', deadlineMs - 1_500, {});
    expect(await decided('KAZ', nil)).toMatchObject({ status: 'accepted', receipt: { memberState: 'KAZ', status: 'no-comments' } });
    const brk = await send('consultation.break-silence', 'RUS', deadlineMs - 1_000, { reason: 'Paragraph 4 needs consensus' });
    expect(await decided('RUS', brk)).toMatchObject({ status: 'accepted', receipt: { memberState: 'RUS', status: 'silence-broken' } });
    // Received after the deadline: refused, however it is processed.
    const late = await send('consultation.break-silence', 'THA', deadlineMs + 1, { reason: 'too late' });
    expect(await decided('THA', late)).toMatchObject({ status: 'rejected', problem: { code: 'consultation-closed' } });

    const rus = { memberState: 'RUS', reason: 'Paragraph 4 needs consensus', receivedAt: new Date(deadlineMs - 1_000).toISOString() };
    await stack.until(async () => (await view(c.id)).silence.outcome === 'silence-broken', 15_000, 'the revised outcome');
    expect(await view(c.id)).toMatchObject({
      status: 'closed',
      responses: { KAZ: 'no-comments', RUS: 'pending', THA: 'pending' },
      noCommentsCount: 1,
      silence: { outcome: 'silence-broken', brokenBy: [rus] },
    });

    // The history: the closing as decided, then what followed it; asOf either side of the revision.
    const events = await history(c.id);
    expect(events.map((e) => e.type)).toEqual([
      'consultation.opened',
      'consultation.closed',
      'consultation.no-comments-submitted',
      'consultation.silence-broken',
      'consultation.silence-outcome-revised',
    ]);
    const closing = events[1]!;
    const revised = events[4]!;
    expect(closing.data.silence).toEqual({ outcome: 'deemed-adopted', brokenBy: [] });
    expect(revised).toMatchObject({
      version: 1,
      data: { previousOutcome: 'deemed-adopted', outcome: 'silence-broken', brokenBy: [rus], ...rus, cause: 'processed-after-closing', deadline: c.deadline, closedAt: closing.data.closedAt },
    });
    const asOf = async (t: string) => (await api('auditor', 'GET', `/v1/consultations/${c.id}?asOf=${encodeURIComponent(t)}`)).body;
    expect((await asOf(closing.occurredAt as string)).silence).toEqual({ outcome: 'deemed-adopted', brokenBy: [] });
    expect(await asOf(revised.occurredAt as string)).toMatchObject({ responses: { KAZ: 'no-comments' }, silence: { outcome: 'silence-broken', brokenBy: [rus] } });

    // An addressee subscribed to outcomes hears the closing and then its revision.
    await stack.until(async () => receiver.bodies.filter((b) => b.path === '/tha-outcomes' && b.event.key === c.id).length === 2, 15_000, 'outcome notices');
    const notices = receiver.bodies.filter((b) => b.path === '/tha-outcomes' && b.event.key === c.id).map((b) => b.event);
    expect(notices.map((e) => [e.type, e.data.silence?.outcome ?? e.data.outcome]).sort()).toEqual([
      ['consultation.closed', 'deemed-adopted'],
      ['consultation.silence-outcome-revised', 'silence-broken'],
    ]);

    // The report of the period follows it too.
    const report = await api('secretariat', 'GET', `/v1/reports/progress?from=${encodeURIComponent(from)}`);
    expect(report.body.consultations.find((x: Json) => x.id === c.id)).toMatchObject({ status: 'closed', silenceOutcome: 'silence-broken' });
  });

  it("the audit export's outside verifier passes over the new event types", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'diplomatic-audit-'));
    try {
      const file = join(dir, 'events.ndjson');
      const { events } = await exportEvents({ kafka: stack.kafka, logger: stack.logger, topic: stack.topics.consultationEvents, file });
      const types = new Set((await readFile(file, 'utf8')).trimEnd().split('\n').map((l) => `${JSON.parse(l).type}@${JSON.parse(l).version}`));
      for (const type of ['consultation.no-comments-submitted@1', 'consultation.silence-broken@1', 'consultation.document-version-issued@1', 'consultation.closed@2', 'consultation.silence-outcome-revised@1'])
        expect(types).toContain(type);
      const doc = await readFile(new URL('../../docs/audit-export.md', import.meta.url), 'utf8');
      const script = /```js file=verify-export\.mjs\n([\s\S]*?)```/.exec(doc)![1]!;
      await writeFile(join(dir, 'verify-export.mjs'), script);
      const { stdout } = await promisify(execFile)('node', [join(dir, 'verify-export.mjs'), file]);
      expect(stdout).toMatch(new RegExp(`^${events} events, \\d+ consultations, 0 broken$`, 'm'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
