import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret, webhookSigningKey } from '@consult/contracts';
import { legacySignatureHeader, standardWebhookHeaders, verifySignature } from './signature.js';

const body = '{"deliveryId":"d","type":"consultation.reminder-issued"}';

describe('Standard Webhooks signatures', () => {
  it('verify with the reference library (standardwebhooks), id and timestamp signed', () => {
    const secret = generateWebhookSecret();
    const now = Math.floor(Date.now() / 1000);
    const headers = standardWebhookHeaders([webhookSigningKey(secret)], 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', now, body);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    // The id is signed: another id, timestamp or body fails.
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_other' })).toThrow();
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-timestamp': String(now - 1) })).toThrow();
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
  });

  it('sign with both secrets during a rotation: either verifies', () => {
    const [previous, next] = [generateWebhookSecret(), generateWebhookSecret()];
    const now = Math.floor(Date.now() / 1000);
    const headers = standardWebhookHeaders([webhookSigningKey(next), webhookSigningKey(previous)], 'msg_1', now, body);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(next).verify(body, headers)).toBeTruthy();
    expect(new Webhook(previous).verify(body, headers)).toBeTruthy();
    const legacy = legacySignatureHeader([next, previous], body, now);
    expect(verifySignature(next, body, legacy)).toBe(true);
    expect(verifySignature(previous, body, legacy)).toBe(true);
  });

  it('use a secret the subscriber chose (v1 API) as raw bytes', () => {
    const chosen = 'whsec-test-0123456789abcdef';
    const now = Math.floor(Date.now() / 1000);
    const headers = standardWebhookHeaders([webhookSigningKey(chosen)], 'msg_1', now, body);
    expect(new Webhook(chosen, { format: 'raw' }).verify(body, headers)).toBeTruthy();
  });
});
