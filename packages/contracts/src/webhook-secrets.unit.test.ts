import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, openWebhookSecret, sealWebhookSecret, unwrapDataKey, webhookSecretsKey, webhookSigningKey } from './webhook-secrets.js';

describe('webhook secrets', () => {
  it('are whsec_ + base64 of 32 random bytes, each one new', () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(webhookSigningKey(a)).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(a);
    expect(webhookSigningKey('a-secret-of-my-own-choice').toString()).toBe('a-secret-of-my-own-choice');
  });

  it('are sealed so that only the operator key and the data key together open them', () => {
    const operator = randomBytes(32);
    const id = randomUUID();
    const secret = generateWebhookSecret();
    const { dataKey, sealedSecret } = sealWebhookSecret(operator, id, secret, new Date().toISOString());
    expect(JSON.stringify({ dataKey, sealedSecret })).not.toContain(secret.slice(6, 20));
    const key = unwrapDataKey(operator, dataKey);
    expect(openWebhookSecret(key, id, sealedSecret)).toBe(secret);
    // Another operator key, another subscription, an altered ciphertext: all refused by GCM.
    expect(() => unwrapDataKey(randomBytes(32), dataKey)).toThrow();
    expect(() => openWebhookSecret(key, randomUUID(), sealedSecret)).toThrow();
    expect(() => openWebhookSecret(randomBytes(32), id, sealedSecret)).toThrow();
    const flipped = Buffer.from(sealedSecret.ciphertext, 'base64url');
    flipped[0]! ^= 1;
    expect(() => openWebhookSecret(key, id, { ...sealedSecret, ciphertext: flipped.toString('base64url') })).toThrow();
  });

  it('need an operator key of 32 bytes, and a configured one in production', () => {
    expect(() => webhookSecretsKey(undefined, true)).toThrow(/required in production/);
    expect(() => webhookSecretsKey(Buffer.alloc(16).toString('base64'), false)).toThrow(/32 bytes/);
    expect(webhookSecretsKey(Buffer.alloc(32, 7).toString('base64'), true)).toEqual(Buffer.alloc(32, 7));
    expect(webhookSecretsKey(undefined, false)).toHaveLength(32);
  });
});
