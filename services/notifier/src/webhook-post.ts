import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { forbiddenAddressReason, isLocalName, webhookHost } from '@consult/contracts';

/** The target resolved to an address webhooks may not reach (see `forbiddenAddressReason`). Never sent. */
export class WebhookTargetRefused extends Error {
  readonly code = 'WEBHOOK_TARGET_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'WebhookTargetRefused';
  }
}

export interface WebhookRequest {
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

/** POSTs a webhook and answers the receiver's status code; throws on connection errors, timeouts and refusals. */
export type WebhookPost = (url: string, request: WebhookRequest) => Promise<number>;

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
/** Resolves a name to all its addresses (dns.lookup with all: true). */
export type Resolve = (hostname: string, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;
const systemResolve: Resolve = (hostname, callback) => dnsLookup(hostname, { all: true }, callback);

/**
 * A DNS lookup for sockets that refuses internal addresses. The check runs on the addresses the socket is
 * about to connect to, so a name that resolved to a public address when subscribed and to 127.0.0.1 now
 * (DNS rebinding) is refused: there is no second resolution between check and connect.
 */
export function guardedLookup(resolve: Resolve = systemResolve) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void => resolve(hostname, (error, addresses) => {
    if (error) return callback(error, '');
    const refused = addresses.map((a) => [a.address, forbiddenAddressReason(a.address)] as const).find(([, why]) => why !== null);
    if (refused || isLocalName(hostname))
      return callback(Object.assign(new WebhookTargetRefused(`${hostname} resolves to ${refused?.[0] ?? 'this machine'}, ${refused?.[1] ?? 'a local name'}`), { errno: 0 }), '');
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '');
    callback(null, first.address, first.family);
  });
}

/** The same resolver without the check (development), so tests can inject names. */
function unguardedLookup(resolve: Resolve) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void => resolve(hostname, (error, addresses) => {
    if (error) return callback(error, '');
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    callback(first ? null : Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), first?.address ?? '', first?.family);
  });
}

/** Throws unless the URL's host may receive webhooks. Literal addresses are checked here (sockets skip lookup for them). */
export function assertLiteralTargetAllowed(url: URL): void {
  const host = webhookHost(url);
  if (isLocalName(host)) throw new WebhookTargetRefused(`${host} is this machine`);
  if (isIP(host) === 0) return;
  const why = forbiddenAddressReason(host);
  if (why) throw new WebhookTargetRefused(`${host} is ${why}`);
}

const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Webhook POSTs over node:http(s), never following redirects. Unless `allowPrivateTargets` (development and
 * tests, whose receivers listen on 127.0.0.1), internal targets are refused before any byte is sent: literal
 * addresses up front, names through `guardedLookup` at connect time.
 */
export function createWebhookPost(options: { allowPrivateTargets: boolean; resolve?: Resolve }): WebhookPost {
  const lookup = guardedLookup(options.resolve);
  return (target, { headers, body, signal }) =>
    new Promise<number>((resolve, reject) => {
      const url = new URL(target);
      if (!options.allowPrivateTargets) assertLiteralTargetAllowed(url);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const request = send(url, {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        signal,
        ...(options.allowPrivateTargets ? (options.resolve ? { lookup: unguardedLookup(options.resolve) } : {}) : { lookup }),
      });
      request.once('error', (error) => reject(signal.aborted && signal.reason instanceof Error ? signal.reason : error));
      request.once('response', (response) => {
        resolve(response.statusCode ?? 0);
        // The answer's body means nothing to us: drain a little of it (keeps the connection reusable), no more.
        let seen = 0;
        response.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (seen > MAX_RESPONSE_BYTES) response.destroy();
        });
        response.on('error', () => undefined);
      });
      request.end(body);
    });
}

/** Adapts a fetch implementation (tests, benchmarks) to a WebhookPost. */
export function webhookPostFromFetch(fetchImpl: typeof fetch): WebhookPost {
  return async (url, { headers, body, signal }) => {
    const response = await fetchImpl(url, { method: 'POST', body, redirect: 'manual', signal, headers });
    await response.body?.cancel().catch(() => undefined);
    return response.status;
  };
}
