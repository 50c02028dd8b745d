/**
 * Where REDIS_URL points: one Redis (`redis://…`, `rediss://…`, as ioredis reads them) or a Redis Cluster named
 * by seed nodes:
 *
 *   redis+cluster://[user[:password]@]host:port[,host:port…][/]     (rediss+cluster:// for TLS)
 *
 * e.g. `redis+cluster://127.0.0.1:17001,127.0.0.1:17002,127.0.0.1:17003` (what infra/redis/redis-cluster.sh
 * prints). The seeds only bootstrap: the client learns every node and slot from any one of them. Credentials
 * apply to every node; IPv6 hosts go in brackets; a port left out is 6379. A cluster has database 0 only, so a
 * path other than `/` or `/0`, and any query, is refused rather than ignored.
 */
export type RedisTarget =
  | { readonly kind: 'single'; readonly url: string }
  | {
      readonly kind: 'cluster';
      readonly nodes: readonly { readonly host: string; readonly port: number }[];
      readonly username?: string;
      readonly password?: string;
      readonly tls: boolean;
    };

/** REDIS_URL cannot be read; the message says what is wrong with it (never its password). */
export class RedisUrlError extends Error {
  readonly code = 'REDIS_URL_INVALID';
  readonly retriable = false;
  constructor(detail: string) {
    super(`REDIS_URL ${detail}`);
    this.name = 'RedisUrlError';
  }
}

const CLUSTER_SCHEME = /^(rediss?)\+cluster:\/\/(.*)$/i;

export function isClusterUrl(url: string): boolean {
  return CLUSTER_SCHEME.test(url);
}

function seed(text: string): { host: string; port: number } {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]/?#@]+)(?::(\d+))?$/i.exec(text);
  if (!match) throw new RedisUrlError(`names a cluster seed '${text}' that is not host:port`);
  const host = match[1]!.replace(/^\[(.*)\]$/, '$1');
  const port = match[2] === undefined ? 6379 : Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new RedisUrlError(`names a cluster seed '${text}' with an invalid port`);
  return { host, port };
}

export function parseRedisUrl(url: string): RedisTarget {
  const cluster = CLUSTER_SCHEME.exec(url.trim());
  if (!cluster) return { kind: 'single', url };
  const tls = cluster[1]!.toLowerCase() === 'rediss';
  let rest = cluster[2]!;
  if (/[?#]/.test(rest)) throw new RedisUrlError('names a cluster with query or fragment options, which are not supported');
  const slash = rest.indexOf('/', rest.lastIndexOf('@') + 1);
  if (slash >= 0) {
    const path = rest.slice(slash);
    if (path !== '/' && path !== '/0') throw new RedisUrlError(`names database ${path.slice(1)} of a cluster; a Redis Cluster has database 0 only`);
    rest = rest.slice(0, slash);
  }
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const credentials = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = credentials.indexOf(':');
    const user = decodeURIComponent(colon >= 0 ? credentials.slice(0, colon) : credentials);
    if (user) username = user;
    if (colon >= 0) password = decodeURIComponent(credentials.slice(colon + 1));
  }
  const nodes = rest
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(seed);
  if (nodes.length === 0) throw new RedisUrlError('names a cluster without any seed node (redis+cluster://host:port,host:port)');
  return { kind: 'cluster', nodes, tls, ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}) };
}
