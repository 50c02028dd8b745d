/// <reference lib="dom" />
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DEV_KEYS } from '@consult/admin';
import { consultationInput, futureIso, Stack } from '../support/stack.js';
import { EventStreamClient } from '../support/webhooks.js';

/**
 * The console in headless Chromium (Debian's `chromium`, driven by playwright-core) against the whole system
 * in this process: the gateway serves the built page under /app, the page signs in and calls the public API.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Without the background-networking flags Chromium waits on services it cannot reach on a closed network.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ROOT = join(import.meta.dirname, '..', '..');
// Every run takes the screenshots; only UPDATE_SCREENSHOTS=1 writes them over the README's (docs/screenshots).
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'screenshots') : join(tmpdir(), 'console-screenshots');
const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const LAPTOP = { width: 1366, height: 900 };
const TABLET = { width: 820, height: 1180 };

interface HistoryItem {
  type: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

/** scripts/ensure-console.mjs as `npm start` and `npm test` run it (or on another app directory, with another build command). */
const ensureConsole = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'scripts', 'ensure-console.mjs'), ...args], { cwd: ROOT, encoding: 'utf8' });

describe('the console in a browser', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const ids = {} as { rules: string; budget: string; silence: string; short?: string };

  let sent = 0;
  const api = (key: keyof typeof DEV_KEYS = 'secretariat') => stack.client(key);

  async function open(reference: string, overrides: Record<string, unknown> = {}): Promise<string> {
    const created = await api().request<{ id: string }>('POST', '/v1/consultations', consultationInput({ reference, ...overrides }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.id;
  }

  async function comment(state: 'KHM' | 'THA' | 'KAZ' | 'RUS', id: string, body: string): Promise<{ commentId: string; trackingNumber: string }> {
    const response = await api(state).request<{ commentId: string; trackingNumber: string }>(
      'POST',
      `/v1/consultations/${id}/comments`,
      { body, language: 'en' },
      { 'idempotency-key': `${state}-${++sent}` },
    );
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  }

  /** Uncaught errors and content-security-policy refusals in any page: there must be none. */
  const pageErrors: string[] = [];

  async function newPage(viewport = LAPTOP): Promise<Page> {
    const p = await context.newPage();
    p.on('pageerror', (error) => pageErrors.push(error.message));
    p.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) pageErrors.push(message.text());
    });
    await p.setViewportSize(viewport);
    return p;
  }

  async function signIn(p: Page, key: string): Promise<void> {
    await p.goto(`${stack.baseUrl}/app/`);
    await p.getByLabel('API key').fill(key);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.locator('header nav').waitFor();
    await p.locator('[data-live="live"]').waitFor({ timeout: 10_000 });
  }

  /** axe-core in the page: no serious or critical violation. (evaluate runs outside the page's CSP.) */
  async function expectAccessible(p: Page, view: string): Promise<void> {
    await p.evaluate(AXE_SOURCE);
    const violations = await p.evaluate(async () => {
      const axe = (window as unknown as { axe: { run: (context: Document) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
      const result = await axe.run(document);
      return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
    expect(violations, `${view}: ${violations.join('; ')}`).toEqual([]);
  }

  /** Every event of the timeline is named in words (a label of the interface), none by its raw type. */
  async function expectTimelineInWords(p: Page): Promise<void> {
    const items = await p.locator('ol.timeline > li').evaluateAll((lis) => lis.map((li) => [li.getAttribute('data-event'), li.querySelector('strong')?.textContent]));
    expect(items.length).toBeGreaterThan(0);
    for (const [type, label] of items) expect(label, type ?? '').not.toMatch(/^consultation\./);
  }

  async function screenshot(p: Page, name: string): Promise<void> {
    await p.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  beforeAll(async () => {
    // The gateway serves apps/console/dist: build it if this file runs without `npm test` (which builds it too);
    // then it is up to date, and kept. (Rebuilding a stale one is tested on a copy, at the end.)
    const built = ensureConsole();
    expect(built.status, built.stderr).toBe(0);
    const kept = ensureConsole();
    expect([kept.status, kept.stderr]).toEqual([0, '']);
    mkdirSync(SCREENSHOTS, { recursive: true });
    stack = await new Stack({ closeGraceMs: 200 }).start(1);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    // The viewer is in Almaty: deadlines show in the viewer's time zone.
    context = await browser.newContext({ acceptDownloads: true, timezoneId: 'Asia/Almaty', locale: 'en-GB' });
    // A step that cannot happen fails in seconds, not at the test's timeout.
    context.setDefaultTimeout(10_000);
    ids.rules = await open('IO/218', { title: 'Draft rules of procedure' });
    ids.budget = await open('IO/219', { title: 'Programme budget 2027', addressees: ['KHM', 'KAZ', 'RUS', 'THA'] });
    await comment('THA', ids.budget, 'Thailand supports the budget.');
    // A nil return (shown as "no comments" in the matrix) and, under silence procedure, a silence break: both are
    // answers the report counts as responses.
    const nil = await api('KAZ').request('POST', `/v1/consultations/${ids.rules}/no-comments`);
    expect(nil.status, JSON.stringify(nil.body)).toBe(201);
    ids.silence = await open('IO/221', { title: 'Observer status', procedure: 'silence', addressees: ['KAZ', 'THA'] });
    const broken = await api('THA').request('POST', `/v1/consultations/${ids.silence}/silence-breaks`, { reason: 'Thailand asks for more time' });
    expect(broken.status, JSON.stringify(broken.body)).toBe(201);
    const corrigendum = await api().request('POST', `/v1/consultations/${ids.silence}/document-versions`, {
      kind: 'corrigendum',
      documents: [{ language: 'en', title: 'Observer status (corrected)' }],
    });
    expect(corrigendum.status, JSON.stringify(corrigendum.body)).toBe(201);
    page = await newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('refuses an unknown key, then signs in with a valid one and lists the consultations with a countdown', async () => {
    await page.goto(`${stack.baseUrl}/app/`);
    await page.getByLabel('API key').fill('not-a-valid-key-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('unknown or revoked');
    await expectAccessible(page, 'sign-in');
    await screenshot(page, 'sign-in');

    // With the keyboard alone: Tab to the key, type it, Enter; focus is always visible.
    await page.reload();
    for (let i = 0; i < 6 && (await page.evaluate(() => document.activeElement?.id)) !== 'api-key'; i++) await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('api-key');
    await page.keyboard.type(DEV_KEYS.secretariat.secret);
    await page.keyboard.press('Enter');
    await page.locator('[data-live="live"]').waitFor({ timeout: 10_000 });
    // The view's heading takes the focus; the next Tab reaches its first control, outlined.
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Consultations');
    await page.keyboard.press('Tab');
    const focus = await page.evaluate(() => {
      const style = getComputedStyle(document.activeElement!);
      return { id: document.activeElement!.id, outline: `${style.outlineStyle} ${style.outlineWidth}` };
    });
    expect(focus).toEqual({ id: 'status-filter', outline: 'solid 3px' });
    // The key is kept in session storage only.
    expect(await page.evaluate(() => [sessionStorage.getItem('consult.apiKey'), JSON.stringify(localStorage)])).toEqual([
      DEV_KEYS.secretariat.secret,
      expect.not.stringContaining(DEV_KEYS.secretariat.secret),
    ]);
    const row = page.locator(`tr[data-consultation="${ids.budget}"]`);
    await expect.poll(() => row.locator('[data-countdown]').textContent()).toMatch(/^\d+ d \d\d:\d\d:\d\d$/);
    expect(await row.locator('td').last().textContent()).toBe('1/4');
    // The deadline in the viewer's time zone (Almaty, UTC+5).
    const deadline = await row.locator('time').getAttribute('datetime');
    expect(await row.locator('time').textContent()).toContain(
      new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'long', timeZone: 'Asia/Almaty' }).format(new Date(deadline!)),
    );
    // Fits a laptop: nothing wider than the window.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await expectAccessible(page, 'consultations');
    await screenshot(page, 'consultations');
  });

  it('shows a comment posted through the API in the open matrix within 2 seconds, without reload', async () => {
    await page.goto(`${stack.baseUrl}/app/#/consultations/${ids.rules}`);
    const khm = page.locator('tr[data-addressee="KHM"]');
    await expect.poll(() => khm.getAttribute('data-response')).toBe('pending');
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));

    const { commentId } = await comment('KHM', ids.rules, 'Cambodia supports the draft.');
    const posted = Date.now();
    await page.locator('tr[data-addressee="KHM"][data-response="commented"]').waitFor({ timeout: 2_000 });
    expect(Date.now() - posted).toBeLessThan(2_000);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);

    // A revision and an extension arrive live too: the comment shows its revisions, the timeline the events.
    const amended = await api('KHM').request('PUT', `/v1/consultations/${ids.rules}/comments/${commentId}`, {
      body: 'Cambodia supports the draft, with one amendment to rule 12.',
      language: 'en',
    });
    expect(amended.status).toBe(200);
    const extended = await api().request('POST', `/v1/consultations/${ids.rules}/deadline-extensions`, {
      deadline: futureIso(40 * 86_400_000),
      reason: 'Requested by member states',
    });
    expect(extended.status).toBe(201);
    await page.locator('li[data-event="consultation.deadline-extended"]').waitFor({ timeout: 5_000 });
    await page.getByText('Revisions (2)').click();
    expect(await page.locator(`li[data-comment="${commentId}"]`).textContent()).toContain('with one amendment to rule 12');
    expect(await page.locator('tr[data-addressee="THA"]').getAttribute('data-response')).toBe('pending');
    // A column for each status the API gives: KAZ answered "no comments" (a nil return).
    expect(await page.locator('table.matrix thead th').allTextContents()).toEqual(['Addressee', 'commented', 'no comments', 'pending']);
    expect(await page.locator('tr[data-addressee="KAZ"]').getAttribute('data-response')).toBe('no-comments');
    expect(await page.locator('tr[data-addressee="KAZ"] td.cell-no-comments .sr-only').textContent()).toBe('no comments');
    await expectTimelineInWords(page);
    await expectAccessible(page, 'consultation');
    await screenshot(page, 'consultation');

    // A silence break and a corrigendum are named in each language of the interface, never by their type.
    await page.goto(`${stack.baseUrl}/app/#/consultations/${ids.silence}`);
    await page.locator('li[data-event="consultation.document-version-issued"]').waitFor();
    const labels = {
      en: ['Silence broken', 'New document version'],
      ru: ['Молчание нарушено', 'Новая версия документа'],
      kk: ['Үнсіздік бұзылды', 'Құжаттың жаңа нұсқасы'],
    };
    for (const [lang, [silence, version]] of Object.entries(labels)) {
      await page.locator('#language').selectOption(lang);
      await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe(lang);
      expect(await page.locator('li[data-event="consultation.silence-broken"] strong').textContent()).toBe(silence);
      expect(await page.locator('li[data-event="consultation.document-version-issued"] strong').textContent()).toBe(version);
      await expectTimelineInWords(page);
    }
    expect(await page.locator('li[data-event="consultation.silence-broken"]').textContent()).toContain('THA: Thailand asks for more time');
    expect(await page.locator('li[data-event="consultation.document-version-issued"]').textContent()).toContain('IO/221/Corr.1');
    await page.locator('#language').selectOption('en');
  });

  it('resumes the event stream after a drop: a comment posted while the page was cut off appears, without reload', async () => {
    await page.goto(`${stack.baseUrl}/app/#/consultations/${ids.budget}`);
    const kaz = page.locator('tr[data-addressee="KAZ"]');
    await expect.poll(() => kaz.getAttribute('data-response')).toBe('pending');
    await page.locator('[data-live="live"]').waitFor();
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    const reconnections: (string | undefined)[] = [];
    const onRequest = (request: { url(): string; headers(): Record<string, string> }): void => {
      if (new URL(request.url()).pathname === '/v1/events') reconnections.push(request.headers()['last-event-id']);
    };
    page.on('request', onRequest);
    let witness: EventStreamClient | undefined;
    try {
      // Offline, the page cannot reconnect; an open stream survives that, so the gateway drops its connections.
      await context.setOffline(true);
      stack.gateways[0]!.app.server.closeAllConnections();
      await page.locator('[data-live="reconnecting"]').waitFor({ timeout: 5_000 });
      // A stream of the test's own sees the comment published while the page is cut off.
      witness = await EventStreamClient.open(stack.baseUrl, DEV_KEYS.secretariat.secret);
      const { commentId } = await comment('KAZ', ids.budget, 'Kazakhstan supports the budget.');
      await expect.poll(() => witness!.events.some((e) => e.data.type === 'consultation.comment-submitted' && e.data.data.commentId === commentId)).toBe(true);
      expect(await kaz.getAttribute('data-response')).toBe('pending');
    } finally {
      await context.setOffline(false);
      witness?.close();
    }
    // Reconnected with Last-Event-ID, the page is sent what it missed: the matrix updates without reload.
    await page.locator('tr[data-addressee="KAZ"][data-response="commented"]').waitFor({ timeout: 10_000 });
    await page.locator('[data-live="live"]').waitFor();
    page.off('request', onRequest);
    expect(reconnections.length).toBeGreaterThan(0);
    expect(reconnections.every((id) => typeof id === 'string' && id.length > 0), JSON.stringify(reconnections)).toBe(true);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  });

  it('keeps the matrix when a reload fails, says it is stale, and catches up once the API answers again', async () => {
    await page.goto(`${stack.baseUrl}/app/#/consultations/${ids.budget}`);
    const rus = page.locator('tr[data-addressee="RUS"]');
    await expect.poll(() => rus.getAttribute('data-response')).toBe('pending');
    await page.locator('[data-live="live"]').waitFor();
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    // The live stream stays up; the reads that its next event starts fail, as they would through a flaky proxy.
    let refused = 0;
    const reads = `**/v1/consultations/${ids.budget}*`;
    await page.route(reads, (route) => (refused++, route.abort('connectionreset')));
    try {
      await comment('RUS', ids.budget, 'The Russian Federation supports the budget.');
      await page.locator('[data-stale="true"]').waitFor({ timeout: 5_000 });
      expect(refused).toBeGreaterThan(0);
      expect(await rus.getAttribute('data-response')).toBe('pending');
      expect(await page.locator('[role="alert"]').count()).toBe(0);
    } finally {
      await page.unroute(reads);
    }
    // The retry (2 s after the failure) loads what the comment changed, and the notice goes.
    await page.locator('tr[data-addressee="RUS"][data-response="commented"]').waitFor({ timeout: 10_000 });
    await page.locator('[data-stale="true"]').waitFor({ state: 'detached' });
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  });

  it('counts down to a deadline a few seconds ahead and shows the consultation closed', async () => {
    await page.goto(`${stack.baseUrl}/app/#/consultations`);
    const deadline = futureIso(5_000);
    ids.short = await open('IO/220', { title: 'Urgent: venue of the summit', deadline, reminderOffsetsSeconds: [2], addressees: ['KHM', 'KAZ'] });
    await comment('KAZ', ids.short, 'Kazakhstan proposes Astana.');
    const row = page.locator(`tr[data-consultation="${ids.short}"]`);
    await expect.poll(() => row.locator('[data-countdown]').textContent(), { timeout: 3_000 }).toMatch(/^00:00:0[1-5]$/);
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    await row.locator('[data-status="closed"]').waitFor({ timeout: 15_000 });
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(deadline));
    expect(await row.locator('td').nth(1).textContent()).toBe('closed');
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  });

  it('forwards a statement from the review queue, and returns another with reasons', async () => {
    const cso = await api().request<{ id: string; apiKey: string }>('POST', '/v1/csos', {
      name: 'Steppe Water Alliance',
      linkBody: 'Standing Committee',
      accreditedUntil: futureIso(365 * 86_400_000),
      contact: { name: 'A. Contact', email: 'contact@example.org' },
    });
    expect(cso.status).toBe(201);
    const author = api().withKey(cso.body.apiKey);
    const submit = async (subject: string): Promise<string> => {
      const sent = await author.request<{ statementId: string }>(
        'POST',
        '/v1/cso-statements',
        { subject, body: 'We recommend a joint monitoring body.', language: 'en' },
        { 'idempotency-key': subject.replaceAll(' ', '-') },
      );
      expect(sent.status).toBe(201);
      return sent.body.statementId;
    };
    const first = await submit('Water rights in the basin');
    const second = await submit('Glacier monitoring');

    await page.goto(`${stack.baseUrl}/app/#/statements`);
    const item = page.locator(`li[data-statement="${first}"]`);
    await item.getByRole('button', { name: 'Start review' }).click();
    await page.locator(`li[data-statement="${first}"][data-status="under-review"]`).waitFor({ timeout: 5_000 });
    await expectAccessible(page, 'statements');
    await screenshot(page, 'statements');
    await item.getByLabel('Note (optional)').fill('For the next session');
    await item.getByRole('button', { name: 'Forward to the Standing Committee' }).click();
    await item.waitFor({ state: 'detached', timeout: 5_000 });
    await page.locator(`li[data-statement="${second}"]`).waitFor();

    const forwarded = await api().request<{ status: string; forwardingNote?: string }>('GET', `/v1/cso-statements/${first}`);
    expect(forwarded.body).toMatchObject({ status: 'forwarded', forwardingNote: 'For the next session' });

    // Returning needs reasons: without them the page says so and sends nothing.
    const other = page.locator(`li[data-statement="${second}"]`);
    await other.getByRole('button', { name: 'Start review' }).click();
    await page.locator(`li[data-statement="${second}"][data-status="under-review"]`).waitFor({ timeout: 5_000 });
    await other.getByRole('button', { name: 'Return to the organisation' }).click();
    expect(await other.getByRole('alert').textContent()).toBe('Give the reasons for returning the statement.');
    await other.getByLabel('Reasons for returning').fill('Outside the committee’s mandate');
    await other.getByRole('button', { name: 'Return to the organisation' }).click();
    await other.waitFor({ state: 'detached', timeout: 5_000 });
    const returned = await api().request<{ status: string; returnReasons?: string }>('GET', `/v1/cso-statements/${second}`);
    expect(returned.body).toMatchObject({ status: 'returned', returnReasons: 'Outside the committee’s mandate' });
    expect(await page.getByText('No statements wait for review.').count()).toBe(1);

    // A statement submitted meanwhile joins the open queue from the live stream, within 2 seconds, without reload.
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    const third = await submit('Regional data sharing');
    const submitted = Date.now();
    await page.locator(`li[data-statement="${third}"][data-status="submitted"]`).waitFor({ timeout: 2_000 });
    expect(Date.now() - submitted).toBeLessThan(2_000);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  });

  it("shows a member state its own view on a tablet: what it owes and its receipts, in Kazakh too", async () => {
    const tablet = await newPage(TABLET);
    await signIn(tablet, DEV_KEYS.KHM.secret);
    await tablet.locator('[data-receipt="IO/218/KHM/1"]').waitFor({ timeout: 5_000 });
    // KHM answered IO/218; it still owes IO/219 (open). IO/220 closed, so it owes nothing there any more.
    expect(await tablet.locator('[data-owed]').evaluateAll((items) => items.map((i) => i.getAttribute('data-owed')))).toEqual([ids.budget]);
    expect(await tablet.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await expectAccessible(tablet, 'member state');
    await screenshot(tablet, 'member-state');
    await tablet.getByLabel('Language').selectOption('ru');
    await tablet.getByRole('heading', { name: /Мои консультации/ }).waitFor();
    await tablet.getByLabel('Язык').selectOption('en');
    await tablet.getByLabel('Language').selectOption('kk');
    await tablet.getByRole('heading', { name: /Менің консультацияларым/ }).waitFor();
    await expect.poll(() => tablet.evaluate(() => document.documentElement.lang)).toBe('kk');
    await expectAccessible(tablet, 'member state (kk)');
    await tablet.getByLabel('Тіл').selectOption('en');
    await tablet.close();
  });

  it('downloads the report as CSV and PDF with the figures the history gives', async () => {
    await page.goto(`${stack.baseUrl}/app/#/reports`);
    await page.locator('#chart-rates').waitFor();
    await page.locator('tr[data-member-state="KHM"]').waitFor({ timeout: 10_000 });
    await expectAccessible(page, 'reports');
    await screenshot(page, 'reports');

    const expected = await independentFigures();
    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const csv = parseCsv(readFileSync((await csvDownload.path()), 'utf8').replace(/^\uFEFF/, ''));
    const row = (scope: string, id: string) => csv.find((r) => r.scope === scope && r.id === id);
    const responseCells = (f: ResponseFigures) => ({
      addressed: String(f.addressed),
      responded: String(f.responded),
      response_rate: round4(f.responded / f.addressed),
      median_response_seconds: f.times.length ? round4(median(f.times)) : '',
      on_time_share: f.times.length ? round4(f.onTime / f.times.length) : '',
      mean_reminders_before_response: f.reminders.length ? round4(mean(f.reminders)) : '',
      extensions: String(f.extensions),
    });

    // The history has every kind of answer: comments, a nil return, a silence break.
    expect(Object.values(expected.states).reduce((n, f) => n + f.responded, 0)).toBeGreaterThanOrEqual(5);
    for (const [state, f] of Object.entries(expected.states)) expect(row('member-state', state), state).toMatchObject(responseCells(f));
    expect(Object.keys(expected.consultations)).toHaveLength(4);
    for (const [id, f] of Object.entries(expected.consultations)) expect(row('consultation', id), id).toMatchObject(responseCells(f));
    expect(Object.keys(expected.csos)).toHaveLength(1);
    for (const [id, f] of Object.entries(expected.csos))
      expect(row('cso', id), id).toMatchObject({
        statements_submitted: String(f.submitted),
        forwarded: String(f.forwarded),
        returned: String(f.returned),
        in_review: String(f.submitted - f.forwarded - f.returned),
        median_review_seconds: f.review.length ? round4(median(f.review)) : '',
      });

    const [pdfDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download PDF' }).click()]);
    const pdf = readFileSync((await pdfDownload.path()));
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = await pdfText(pdf);
    const totalAddressed = Object.values(expected.consultations).reduce((n, f) => n + f.addressed, 0);
    const totalResponded = Object.values(expected.consultations).reduce((n, f) => n + f.responded, 0);
    expect(text).toContain(`Responded: ${totalResponded}/${totalAddressed} (${pct(totalResponded / totalAddressed)})`);
    // A table row's cells, as the PDF writes them: counts, shares, durations, mean reminders with one decimal.
    const pdfCells = (f: ResponseFigures) =>
      [
        f.addressed,
        f.responded,
        pct(f.responded / f.addressed),
        f.times.length ? dur(median(f.times)) : '—',
        f.times.length ? pct(f.onTime / f.times.length) : '—',
        f.reminders.length ? mean(f.reminders).toFixed(1) : '—',
        f.extensions,
      ].join('|');
    for (const [state, f] of Object.entries(expected.states)) expect(text, state).toContain(`|${state}|${pdfCells(f)}|`);
    // A label too long for its column wraps: each of its lines is a text item of its own.
    const cellsAfter = (label: string, cells: string) => new RegExp(`\\|${label.split(' ').map(escapeRegExp).join('[ |]')}\\|${escapeRegExp(cells)}\\|`);
    for (const [id, f] of Object.entries(expected.consultations)) expect(text, id).toMatch(cellsAfter(f.label, pdfCells(f)));
    for (const f of Object.values(expected.csos))
      expect(text).toContain(
        `|${f.name}|${f.submitted}|${f.forwarded}|${f.returned}|${f.submitted - f.forwarded - f.returned}|${f.review.length ? dur(median(f.review)) : '—'}|`,
      );
    expect(pageErrors).toEqual([]);
  });

  it('rebuilds the console only when a source is newer than the build (checked on a copy, so a run builds nothing)', () => {
    const copy = mkdtempSync(join(tmpdir(), 'console-copy-'));
    try {
      const app = join(ROOT, 'apps', 'console');
      for (const name of ['src', 'index.html', 'vite.config.ts', 'package.json', join('dist', 'index.html')]) cpSync(join(app, name), join(copy, name), { recursive: true });
      // A stand-in for vite: it writes the build and counts its runs.
      const runs = join(copy, 'runs');
      const build = join(copy, 'dist', 'index.html');
      const standIn = [process.execPath, '-e', `const fs = require('node:fs'); fs.writeFileSync(${JSON.stringify(build)}, 'built'); fs.appendFileSync(${JSON.stringify(runs)}, 'x');`];
      const builds = () => (existsSync(runs) ? readFileSync(runs, 'utf8').length : 0);
      const check = (): { status: number | null; stderr: string; built: boolean } => {
        const before = builds();
        const result = ensureConsole(copy, ...standIn);
        return { status: result.status, stderr: result.stderr, built: builds() === before + 1 };
      };
      const kept = { status: 0, stderr: '', built: false };
      const rebuilt = { status: 0, stderr: expect.stringContaining('Building the console'), built: true };
      const at = (path: string, minutesAgo: number): void => {
        const time = new Date(Date.now() - minutesAgo * 60_000);
        utimesSync(path, time, time);
      };
      const everySource = (minutesAgo: number): void => {
        const walk = (path: string): void => (statSync(path).isDirectory() ? readdirSync(path).forEach((n) => walk(join(path, n))) : at(path, minutesAgo));
        for (const name of ['src', 'index.html', 'vite.config.ts', 'package.json']) walk(join(copy, name));
      };

      everySource(120);
      at(build, 60);
      expect(check()).toEqual(kept);
      // index.html newer than the build: rebuilt, and then kept.
      at(join(copy, 'index.html'), 30);
      expect(check()).toEqual(rebuilt);
      expect(check()).toEqual(kept);
      // A file deep in src newer than the build.
      at(build, 60);
      at(join(copy, 'src', 'views', 'statements.tsx'), 30);
      expect(check()).toEqual(rebuilt);
      expect(check()).toEqual(kept);
      // No build at all.
      rmSync(build);
      expect(check()).toEqual(rebuilt);
      expect(check()).toEqual(kept);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  /**
   * The report's figures recomputed here, with code of the test's own, from the history endpoints: each
   * consultation's (GET /v1/consultations/{id}/history) and each statement's (GET /v1/cso-statements/{id}/history).
   */
  async function independentFigures() {
    const consultations: Record<string, ResponseFigures & { label: string }> = {};
    const states: Record<string, ResponseFigures> = {};
    for (const id of Object.values(ids).filter((v): v is string => typeof v === 'string')) {
      const history = await api().request<{ items: HistoryItem[] }>('GET', `/v1/consultations/${id}/history?limit=1000`);
      const items = history.body.items;
      const opened = items.find((e) => e.type === 'consultation.opened')!.data as { addressees: string[]; openedAt: string; deadline: string; reference: string; title: string };
      // The answers that stand: comments not withdrawn; a nil return until the state comments; a silence break
      // until a revision resets the silence. Each is on time when received by the deadline then in force.
      let deadline = opened.deadline;
      const standing = new Map<string, { state: string; at: string; onTime: boolean }>();
      for (const e of items) {
        const state = e.data.memberState as string;
        const answer = () => ({ state, at: e.data.receivedAt as string, onTime: Date.parse(e.data.receivedAt as string) <= Date.parse(deadline) });
        if (e.type === 'consultation.deadline-extended') deadline = e.data.deadline as string;
        if (e.type === 'consultation.comment-submitted') {
          standing.set(`comment ${e.data.commentId as string}`, answer());
          standing.delete(`nil ${state}`);
        }
        if (e.type === 'consultation.comment-withdrawn') standing.delete(`comment ${e.data.commentId as string}`);
        if (e.type === 'consultation.no-comments-submitted' && !standing.has(`nil ${state}`)) standing.set(`nil ${state}`, answer());
        if (e.type === 'consultation.silence-broken' && !standing.has(`silence ${state}`)) standing.set(`silence ${state}`, answer());
        if (e.type === 'consultation.document-version-issued' && e.data.resetsSilence === true)
          for (const key of [...standing.keys()]) if (key.startsWith('silence ')) standing.delete(key);
      }
      const extensions = items.filter((e) => e.type === 'consultation.deadline-extended').length;
      const reminders = items.filter((e) => e.type === 'consultation.reminder-issued');
      const c = (consultations[id] = { ...noFigures(), addressed: opened.addressees.length, extensions, label: `${opened.reference} ${opened.title}` });
      for (const state of opened.addressees) {
        const s = (states[state] ??= noFigures());
        s.addressed += 1;
        s.extensions += extensions;
        const first = [...standing.values()].filter((x) => x.state === state).sort((a, b) => Date.parse(a.at) - Date.parse(b.at))[0];
        if (!first) continue;
        const seconds = (Date.parse(first.at) - Date.parse(opened.openedAt)) / 1000;
        const before = reminders.filter((r) => (r.data.pending as string[]).includes(state) && Date.parse(r.occurredAt) < Date.parse(first.at)).length;
        for (const f of [c, s]) {
          f.responded += 1;
          f.times.push(seconds);
          f.onTime += first.onTime ? 1 : 0;
          f.reminders.push(before);
        }
      }
    }

    // Per organisation: each statement's own events in its history; time in review runs to the first decision.
    const csos: Record<string, { name: string; submitted: number; forwarded: number; returned: number; review: number[] }> = {};
    const names = await api().request<{ items: { id: string; name: string }[] }>('GET', '/v1/csos?limit=200');
    const statements = await api().request<{ items: { statementId: string; csoId: string }[] }>('GET', '/v1/cso-statements?limit=100');
    for (const { statementId, csoId } of statements.body.items) {
      const history = await api().request<{ items: HistoryItem[] }>('GET', `/v1/cso-statements/${statementId}/history?limit=1000`);
      expect(history.status).toBe(200);
      const own = history.body.items.filter((e) => e.data.statementId === statementId);
      const submitted = own.find((e) => e.type === 'cso.statement-submitted')!;
      const decision = own.find((e) => e.type === 'cso.statement-forwarded' || e.type === 'cso.statement-returned');
      const f = (csos[csoId] ??= { name: names.body.items.find((c) => c.id === csoId)!.name, submitted: 0, forwarded: 0, returned: 0, review: [] });
      f.submitted += 1;
      if (!decision) continue;
      if (decision.type === 'cso.statement-forwarded') f.forwarded += 1;
      else f.returned += 1;
      f.review.push((Date.parse(decision.data.receivedAt as string) - Date.parse(submitted.data.receivedAt as string)) / 1000);
    }
    return { consultations, states, csos };
  }
});

interface ResponseFigures {
  addressed: number;
  responded: number;
  /** seconds from the opening to each responder's first standing answer */
  times: number[];
  onTime: number;
  /** per responder, the reminders that named it before its answer */
  reminders: number[];
  extensions: number;
}
const noFigures = (): ResponseFigures => ({ addressed: 0, responded: 0, times: [], onTime: 0, reminders: [], extensions: 0 });

const round4 = (n: number): string => String(Math.round(n * 10_000) / 10_000);
const pct = (share: number): string => `${(Math.round(share * 1000) / 10).toFixed(1)}%`;
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
/** A duration as the PDF writes it: "45 s", "12.5 min", "3.2 h", "4.1 d". */
function dur(seconds: number): string {
  const one = (n: number): string => (Math.round(n * 10) / 10).toFixed(1);
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7_200) return `${one(seconds / 60)} min`;
  if (seconds < 172_800) return `${one(seconds / 3_600)} h`;
  return `${one(seconds / 86_400)} d`;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** RFC 4180 rows as objects keyed by the header. */
function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else if (ch !== '\r') cell += ch;
  }
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ''])));
}

/** The PDF's text items in order, blank ones dropped, joined with '|'. */
async function pdfText(pdf: Buffer): Promise<string> {
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const doc = await getDocument({ data: new Uint8Array(pdf), disableFontFace: true, useSystemFonts: false }).promise;
  const parts: string[] = [];
  for (let p = 1; p <= doc.numPages; p++) {
    const content = await (await doc.getPage(p)).getTextContent();
    for (const item of content.items) if ('str' in item && item.str.trim()) parts.push(item.str);
  }
  await doc.destroy();
  return `|${parts.join('|')}|`;
}
