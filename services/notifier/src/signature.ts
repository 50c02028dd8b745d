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
