import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_KEYS } from '@consult/admin';
import { consultationInput, Stack } from '../support/stack.js';

interface Report {
  period: { from: string; to: string };
  totals: { consultations: number; addressed: number; responded: number; responseRate: number };
  memberStates: { memberState: string; consultations: number; responded: number; responseRate: number; medianResponseSeconds: number | null }[];
  consultations: { id: string; responded: number; addressees: number; extensions: number; pending: string[] }[];
}

describe('progress reports and the console through the API', () => {
  let stack: Stack;
  let consultationId: string;
  let cut: string;
  const from = new Date(Date.now() - 60_000).toISOString();

  beforeAll(async () => {
    stack = await new Stack().start(1);
    const created = await stack.client('secretariat').request<{ id: string }>('POST', '/v1/consultations', consultationInput({ addressees: ['KHM', 'THA', 'KAZ'] }));
    consultationId = created.body.id;
    const sent = await stack.client('KHM').request('POST', `/v1/consultations/${consultationId}/comments`, { body: 'Yes.', language: 'en' }, { 'idempotency-key': 'khm-1' });
    expect(sent.status).toBe(201);
    await new Promise((r) => setTimeout(r, 20));
    cut = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
  });
  afterAll(async () => stack?.stop());

  const report = (query: string, key: keyof typeof DEV_KEYS = 'secretariat') => stack.client(key).request<Report>('GET', `/v1/reports/progress?${query}`);

  it('gives a past period the same figures whenever it is asked, however much happens after it', async () => {
    const before = await report(`from=${from}&to=${cut}`);
    expect(before.status).toBe(200);
    expect(before.body.consultations).toEqual([expect.objectContaining({ id: consultationId, addressees: 3, responded: 1, pending: ['THA', 'KAZ'] })]);
    expect(before.body.memberStates.find((s) => s.memberState === 'KHM')).toMatchObject({ consultations: 1, responded: 1, responseRate: 1 });

    const later = await stack.client('THA').request('POST', `/v1/consultations/${consultationId}/comments`, { body: 'Yes.', language: 'en' }, { 'idempotency-key': 'tha-1' });
    expect(later.status).toBe(201);
    const extended = await stack.client('secretariat').request('POST', `/v1/consultations/${consultationId}/deadline-extensions`, {
      deadline: new Date(Date.now() + 40 * 86_400_000).toISOString(),
      reason: 'More time',
    });
    expect(extended.status).toBe(201);

    expect((await report(`from=${from}&to=${cut}`)).body).toEqual(before.body);
    const now = await report(`from=${from}`);
    expect(now.body.consultations[0]).toMatchObject({ responded: 2, extensions: 1, pending: ['KAZ'] });
    expect(now.body.totals).toMatchObject({ consultations: 1, addressed: 3, responded: 2 });
  });

  it('serves the same figures as CSV and as a PDF', async () => {
    const csv = await fetch(`${stack.baseUrl}/v1/reports/progress?from=${from}&format=csv`, { headers: { authorization: `Bearer ${DEV_KEYS.auditor.secret}` } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="progress-.*\.csv"$/);
    const bytes = Buffer.from(await csv.arrayBuffer());
    // UTF-8 with a byte-order mark, so spreadsheets read Cyrillic names.
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.subarray(3).toString('utf8').split('\r\n');
    expect(lines[0]).toBe('scope,id,label,addressed,responded,response_rate,median_response_seconds,on_time_share,mean_reminders_before_response,extensions,statements_submitted,forwarded,returned,in_review,median_review_seconds');
    expect(lines.find((l) => l.startsWith(`consultation,${consultationId},`))).toMatch(new RegExp(`^consultation,${consultationId},IO/218 Draft rules of procedure,3,2,0.6667,`));
    const pdf = await fetch(`${stack.baseUrl}/v1/reports/progress?from=${from}&format=pdf&lang=ru`, { headers: { authorization: `Bearer ${DEV_KEYS.secretariat.secret}` } });
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  it('is for the secretariat and auditors only, and refuses a period that ends before it starts', async () => {
    expect((await report('', 'KHM')).status).toBe(403);
    expect((await report('', 'committee')).status).toBe(403);
    const byDefault = await report('', 'auditor');
    expect(byDefault.status).toBe(200);
    // By default: the year up to now.
    const { from: start, to: end } = byDefault.body.period;
    expect(Math.abs(Date.parse(end) - Date.now())).toBeLessThan(10_000);
    expect(Date.parse(end) - Date.parse(start)).toBe(365 * 86_400_000);
    const backwards = await report(`from=${cut}&to=${from}`);
    expect(backwards.status).toBe(400);
    expect(backwards.problem?.code ?? (backwards.body as unknown as { code: string }).code).toBe('validation-failed');
    expect((await report('format=xml')).status).toBe(400);
    expect((await report('to=yesterday')).status).toBe(400);
    expect((await fetch(`${stack.baseUrl}/v1/reports/progress`)).status).toBe(401);
  });

  it('tells a key who it belongs to, and serves the console page without a key', async () => {
    expect((await stack.client('KHM').request('GET', '/v1/me')).body).toEqual({ kind: 'member-state', id: 'KHM', name: 'Cambodia' });
    expect((await fetch(`${stack.baseUrl}/v1/me`)).status).toBe(401);
    const page = await fetch(`${stack.baseUrl}/app/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toMatch(/<script type="module" crossorigin src="\/app\/assets\/index-[\w-]+\.js"><\/script>/);
  });
});
