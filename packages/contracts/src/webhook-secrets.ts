import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { SealedSecret, SubscriptionDataKey } from './notifications.js';

/**
 * Webhook secrets: made by the server (Standard Webhooks format, `whsec_` + base64 of 32 random bytes), and
 * encrypted at rest with envelope encryption: AES-256-GCM under a per-subscription data key, the data key
 * under the operator's key. The subscription id is bound in as associated data, so a sealed secret or key
 * copied onto another subscription does not open.
 */

export const WEBHOOK_SECRET_PREFIX = 'whsec_';

export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/**
 * The HMAC key of a secret for the Standard Webhooks signature: the base64-decoded part after `whsec_`; a
 * secret chosen by the subscriber in another form (the v1 API) is used as its UTF-8 bytes.
 */
export function webhookSigningKey(secret: string): Buffer {
  if (secret.startsWith(WEBHOOK_SECRET_PREFIX)) {
    const raw = secret.slice(WEBHOOK_SECRET_PREFIX.length);
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(raw) && raw.length % 4 === 0) return Buffer.from(raw, 'base64');
  }
  return Buffer.from(secret, 'utf8');
}

interface Box {
  iv: string;
  ciphertext: string;
  tag: string;
}

function seal(key: Buffer, plaintext: Buffer, aad: string): Box {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv: iv.toString('base64url'), ciphertext: ciphertext.toString('base64url'), tag: cipher.getAuthTag().toString('base64url') };
}

function open(key: Buffer, box: Box, aad: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(box.iv, 'base64url'));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(Buffer.from(box.tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(box.ciphertext, 'base64url')), decipher.final()]);
}

/** A fresh data key for a subscription's secret (one per secret: creation and each rotation). */
export function sealWebhookSecret(
  operatorKey: Buffer,
  subscriptionId: string,
  secret: string,
  now: string,
): { dataKey: SubscriptionDataKey; sealedSecret: SealedSecret } {
  const keyRef = `${subscriptionId}.${randomBytes(6).toString('base64url')}`;
  const dataKey = randomBytes(32);
  const wrappedKey = seal(operatorKey, dataKey, `subscription-key:${keyRef}:${subscriptionId}`);
  const sealed = seal(dataKey, Buffer.from(secret, 'utf8'), `subscription-secret:${keyRef}:${subscriptionId}`);
  return { dataKey: { keyRef, subscriptionId, wrappedKey, createdAt: now }, sealedSecret: { keyRef, ...sealed } };
}

/** Opens a data key record with the operator's key. Throws if the key is wrong or the record was altered. */
export function unwrapDataKey(operatorKey: Buffer, record: SubscriptionDataKey): Buffer {
  return open(operatorKey, record.wrappedKey, `subscription-key:${record.keyRef}:${record.subscriptionId}`);
}

/** Opens a sealed secret with its (unwrapped) data key. */
export function openWebhookSecret(dataKey: Buffer, subscriptionId: string, sealed: SealedSecret): string {
  return open(dataKey, sealed, `subscription-secret:${sealed.keyRef}:${subscriptionId}`).toString('utf8');
}

/**
 * The operator's key from configuration (`WEBHOOK_SECRETS_KEY`: base64 of 32 bytes). Without one, development
 * uses a fixed key derived from a public string — fine for `npm start` and tests, refused in production.
 */
export function webhookSecretsKey(configured: string | undefined, production: boolean): Buffer {
  if (configured) {
    const key = Buffer.from(configured, 'base64');
    if (key.length !== 32) throw new Error('WEBHOOK_SECRETS_KEY must be the base64 of exactly 32 bytes');
    return key;
  }
  if (production) throw new Error('WEBHOOK_SECRETS_KEY is required in production (base64 of 32 random bytes)');
  return DEVELOPMENT_WEBHOOK_SECRETS_KEY;
}

export const DEVELOPMENT_WEBHOOK_SECRETS_KEY = createHash('sha256').update('consultation-messaging development webhook key').digest();
