import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures (docs/webhooks.md): `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, `${t}.${body}`)>`.
 * The timestamp is signed with the body, so a receiver that rejects old timestamps and remembers delivery ids
 * drops replays.
 */
export const SIGNATURE_HEADER = 'x-signature';

export function sign(secret: string, body: string, timestampSeconds: number): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex');
}

export function signatureHeader(secret: string, body: string, timestampSeconds: number): string {
  return `t=${timestampSeconds},v1=${sign(secret, body, timestampSeconds)}`;
}

export interface VerifyOptions {
  /** Oldest acceptable timestamp, in seconds from now; default 300. */
  toleranceSeconds?: number;
  nowSeconds?: number;
}

/** Checks a signature header against the raw body as received. Constant-time comparison. */
export function verifySignature(secret: string, body: string, header: string | undefined, options: VerifyOptions = {}): boolean {
  if (!header) return false;
  const parts = new Map<string, string[]>();
  for (const item of header.split(',')) {
    const [k, v] = item.trim().split('=', 2);
    if (!k || v === undefined) continue;
    parts.set(k, [...(parts.get(k) ?? []), v]);
  }
  const t = parts.get('t')?.[0];
  if (!t || !/^\d{1,12}$/.test(t)) return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(t)) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(sign(secret, body, Number(t)), 'hex');
  return (parts.get('v1') ?? []).some((candidate) => {
    const given = Buffer.from(candidate, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

// ---- Standard Webhooks (https://www.standardwebhooks.com) ----

/**
 * `webhook-signature` of the Standard Webhooks specification: for each secret, `v1,<base64 HMAC-SHA256>` of
 * `${webhook-id}.${webhook-timestamp}.${body}`, keyed with the secret's bytes (`webhookSigningKey`), separated
 * by spaces. During a rotation's overlap both the new and the previous secret sign, so a receiver that knows
 * either one accepts the delivery.
 */
export function standardSignature(signingKeys: readonly Buffer[], webhookId: string, timestampSeconds: number, body: string): string {
  return signingKeys
    .map((key) => `v1,${createHmac('sha256', key).update(`${webhookId}.${timestampSeconds}.${body}`, 'utf8').digest('base64')}`)
    .join(' ');
}

/** The Standard Webhooks headers of one attempt. The id is the delivery id: the same for every retry. */
export function standardWebhookHeaders(signingKeys: readonly Buffer[], webhookId: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': standardSignature(signingKeys, webhookId, timestampSeconds, body),
  };
}

/** The legacy `X-Signature` with one `v1=` per secret (its verifiers accept any matching one). */
export function legacySignatureHeader(secrets: readonly string[], body: string, timestampSeconds: number): string {
  return [`t=${timestampSeconds}`, ...secrets.map((s) => `v1=${sign(s, body, timestampSeconds)}`)].join(',');
}
