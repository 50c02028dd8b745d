import { DEV_KEYS } from '@consult/admin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { producedSoFar, raw, type RawAnswer } from '../support/http.js';
import { consultationInput, futureIso, Stack } from '../support/stack.js';

/**
 * Inputs that pass a lax HTTP schema but fail deeper inside must be a 400 at the edge, with a stable code,
 * and change nothing: one rule for every text field (docs/security.md, "Text and formats").
 */
describe('hostile input is refused at the edge, and text is stored exactly as sent', () => {
  let stack: Stack;
  let consultationId: string;
  const SEC = DEV_KEYS.secretariat.secret;
  const KHM = DEV_KEYS.KHM.secret;

  beforeAll(async () => {
    stack = await new Stack().start();
    const created = await stack.client('secretariat').createConsultation(consultationInput({ reference: 'IO/666' }));
    expect(created.status).toBe(201);
    consultationId = created.body.id;
  });
  afterAll(async () => stack?.stop());

  let n = 0;
  const post = (path: string, key: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
    raw(stack.baseUrl, { method: 'POST', path, key, body, headers: { 'idempotency-key': `hostile-${++n}`, ...headers } });
  const comment = (body: string | Uint8Array) => post(`/v1/consultations/${consultationId}/comments`, KHM, body);

  /** A 400 with the given stable code, as problem+json, and nothing produced to any topic. */
  async function refused(attempt: () => Promise<RawAnswer>, code: string): Promise<RawAnswer> {
    const before = await producedSoFar(stack);
    const answer = await attempt();
    expect(answer.status, answer.text).toBe(400);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.json).toMatchObject({ code, status: 400, type: `/problems/${code}` });
    expect(await producedSoFar(stack)).toBe(before);
    return answer;
  }

  it('refuses a leap second or an impossible date in every date field', async () => {
    const leap = '2031-06-30T23:59:60Z';
    const bodies: [string, string, unknown][] = [
      ['/v1/consultations', SEC, consultationInput({ deadline: leap })],
      ['/v1/consultations', SEC, consultationInput({ deadline: '2031-02-30T12:00:00Z' })],
      ['/v1/consultations', SEC, consultationInput({ deadline: '2031-06-30T12:00:00+24:00' })],
      [`/v1/consultations/${consultationId}/deadline-extensions`, SEC, { deadline: leap, reason: 'leap' }],
      ['/v1/csos', SEC, { name: 'N', linkBody: 'L', accreditedUntil: leap, contact: { name: 'C', email: 'c@example.org' } }],
    ];
    for (const [path, key, body] of bodies) {
      const answer = await refused(() => post(path, key, JSON.stringify(body)), 'validation-failed');
      expect(String(answer.json?.detail)).toMatch(/date-time/);
    }
    const asOf = await raw(stack.baseUrl, { method: 'GET', path: `/v1/consultations/${consultationId}?asOf=${encodeURIComponent(leap)}`, key: SEC });
    expect(asOf.status).toBe(400);
  });

  it('counts lengths in UTF-16 code units everywhere: an emoji is two, and the limit holds exactly', async () => {
    const emoji = '😀';
    const tooLong = await refused(() => comment(JSON.stringify({ body: emoji.repeat(50_001), language: 'en' })), 'validation-failed');
    expect(String(tooLong.json?.detail)).toMatch(/100000 UTF-16 code units/);
    await refused(
      () => post('/v1/consultations', SEC, JSON.stringify(consultationInput({ title: emoji.repeat(251) }))),
      'validation-failed',
    );
    // At the limit it is accepted and stored exactly.
    const atLimit = emoji.repeat(50_000);
    const accepted = await comment(JSON.stringify({ body: atLimit, language: 'en' }));
    expect(accepted.status, accepted.text).toBe(201);
    const stored = await stack.client('secretariat').getComment(consultationId, String(accepted.json?.commentId));
    expect(stored.body.body).toBe(atLimit);
  });

  it('refuses a URL that does not parse (port 99999) in subscriptions and documents', async () => {
    await refused(
      () => post('/v1/subscriptions', SEC, JSON.stringify({ url: 'http://example.org:99999/hook', events: ['consultation.comment-submitted'], secret: 's'.repeat(24) })),
      'validation-failed',
    );
    await refused(
      () =>
        post(
          '/v1/consultations',
          SEC,
          JSON.stringify(consultationInput({ documents: [{ language: 'en', title: 'T', uri: 'https://example.org:99999/doc.pdf' }] })),
        ),
      'validation-failed',
    );
  });

  it('refuses a body that is not valid UTF-8 instead of replacing it with U+FFFD', async () => {
    const prefix = Buffer.from('{"body":"Cambodia ', 'utf8');
    const suffix = Buffer.from('","language":"en"}', 'utf8');
    for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80] /* an encoded surrogate */, [0xc0, 0xaf] /* overlong */]) {
      const answer = await refused(() => comment(Buffer.concat([prefix, Buffer.from(bad), suffix])), 'invalid-encoding');
      expect(String(answer.json?.detail)).toMatch(/UTF-8/);
    }
    await refused(
      () =>
        raw(stack.baseUrl, {
          method: 'POST',
          path: `/v1/consultations/${consultationId}/comments`,
          key: KHM,
          body: JSON.stringify({ body: 'x', language: 'en' }),
          headers: { 'content-type': 'application/json; charset=iso-8859-1', 'idempotency-key': 'latin1' },
        }),
      'invalid-encoding',
    );
  });

  it('refuses lone surrogates, NUL and control characters in every text field, even as JSON escapes', async () => {
    // As JSON escapes, and raw where JSON allows them unescaped (DEL and C1 controls).
    for (const bad of ['\\ud800', 'a\\udfffb', '\\u0000', '\\u001b[31m', '\\u007f', '\\u0085', '\\u009b', 'raw\u007f', 'raw\u0085']) {
      const text = `Cambodia ${bad}`;
      const answer = await refused(() => comment(`{"body":"${text}","language":"en"}`), 'invalid-text');
      expect(answer.json?.errors).toEqual([expect.objectContaining({ path: 'body/body' })]);
      await refused(
        () => post('/v1/consultations', SEC, JSON.stringify(consultationInput()).replace('"Draft rules of procedure"', `"${text}"`)),
        'invalid-text',
      );
      await refused(() => post(`/v1/consultations/${consultationId}/deadline-extensions`, SEC, `{"deadline":"${futureIso(40 * 86_400_000)}","reason":"${text}"}`), 'invalid-text');
    }
    // A raw C0 control inside a JSON string is not JSON at all.
    await refused(() => comment('{"body":"nul\u0000in","language":"en"}'), 'invalid-json');
    // Field names are text too.
    await refused(() => comment('{"body":"x","language":"en","\\u0000":1}'), 'invalid-text');
  });

  it('stores unusual but valid text exactly as sent', async () => {
    const texts = [
      'Tab\tand\r\nnew lines\n',
      'Combining: e\u0301 vs \u00e9, not normalised',
      'Replacement char as sent: \ufffd',
      'Line and paragraph separators: \u2028 \u2029',
      'Flags and families: 🇰🇭 👨‍👩‍👧 and 𝕏',
      'Right-to-left: مرحبا',
      ' leading and trailing spaces ',
    ];
    for (const text of texts) {
      const answer = await comment(JSON.stringify({ body: text, language: 'en' }));
      expect(answer.status, answer.text).toBe(201);
      const stored = await stack.client('secretariat').getComment(consultationId, String(answer.json?.commentId));
      expect(stored.body.body).toBe(text);
    }
  });

  it('never copies a malformed correlation id into an event', async () => {
    const answer = await raw(stack.baseUrl, {
      method: 'POST',
      path: `/v1/consultations/${consultationId}/comments`,
      key: KHM,
      body: JSON.stringify({ body: 'Correlated', language: 'en' }),
      headers: { 'idempotency-key': 'correlated-1', 'x-correlation-id': 'caf\u00e9\u00ff' },
    });
    expect(answer.status).toBe(201);
    const history = await stack.client('auditor').history(consultationId);
    const event = history.body.items.find((e) => (e.data as { body?: string }).body === 'Correlated') as { correlationId: string } | undefined;
    expect(event?.correlationId).toMatch(/^[\x21-\x7E]+$/);
    expect(event?.correlationId).not.toContain('caf');
  });
});
