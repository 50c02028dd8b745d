import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signatureHeader, verifySignature } from './signature.js';

const secret = 'whsec-0123456789abcdef';
const body = '{"deliveryId":"d","type":"consultation.reminder-issued"}';

describe('webhook signatures', () => {
  it('signs `${t}.${body}` with HMAC-SHA256, as the docs tell receivers to check', () => {
    const header = signatureHeader(secret, body, 1_700_000_000);
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(header).toBe(`t=1700000000,v1=${expected}`);
    expect(verifySignature(secret, body, header, { nowSeconds: 1_700_000_010 })).toBe(true);
  });

  it('rejects another secret, an altered body, a stale timestamp and malformed headers', () => {
    const header = signatureHeader(secret, body, 1_700_000_000);
    const now = { nowSeconds: 1_700_000_000 };
    expect(verifySignature('another-secret-0000', body, header, now)).toBe(false);
    expect(verifySignature(secret, `${body} `, header, now)).toBe(false);
    expect(verifySignature(secret, body, header, { nowSeconds: 1_700_000_301 })).toBe(false);
    expect(verifySignature(secret, body, header.replace('t=1700000000', 't=1700000001'), now)).toBe(false);
    for (const bad of [undefined, '', 'v1=abc', 't=x,v1=abc', 't=1700000000']) expect(verifySignature(secret, body, bad, now)).toBe(false);
  });
});
