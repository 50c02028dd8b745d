import { createHash } from 'node:crypto';

/**
 * Canonical JSON: object keys sorted by UTF-16 code unit, no whitespace, arrays in order, `undefined` members
 * dropped. Outside verifiers reproduce it with any JSON library that sorts keys (e.g. `jq -cS`).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The hash that chains an event to its predecessor: SHA-256 over the previous hash (or the empty string for
 * the first event) followed by the canonical JSON of the event without its `hash` field.
 */
export function chainHash(eventWithoutHash: Record<string, unknown>, previousHash: string | null): string {
  const { hash: _ignored, ...rest } = eventWithoutHash;
  return sha256Hex((previousHash ?? '') + canonicalJson(rest));
}

/** Deterministic UUID (v5-shaped) from a name, so re-deciding the same command yields the same event ids. */
export function deterministicUuid(name: string): string {
  const h = createHash('sha1').update(name, 'utf8').digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
