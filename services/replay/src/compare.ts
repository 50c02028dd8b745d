import { globEscape, scanKeys, type RedisClient as Redis } from '@consult/redis';

/**
 * Keys (relative to the prefix) left out of the comparison: consumer offsets and the Kafka cluster binding,
 * which differ by nature, the
 * state of the deadline service and the notifier, which each rebuild their own from Kafka after a flush
 * (their own suites test that), and the gateways' record of the commands they sent (`command-sent:`, only
 * needed until a command's outcome is projected); the replay rebuild covers the projector's read models.
 */
export const DEFAULT_IGNORED: readonly RegExp[] = [/^(\{[^}]*\}:)?offsets:/, /^kafka-cluster$/, /^(\{[^}]*\}:)?deadlines:/, /^(\{[^}]*\}:)?notif:/, /^command-sent:/];

export type DifferenceKind = 'missing-in-rebuild' | 'missing-in-live' | 'type' | 'value';

export interface KeyDifference {
  /** The key without its prefix, e.g. `{c3}:cons:<id>` (hash tags do not include the prefix). */
  key: string;
  kind: DifferenceKind;
  detail: string;
}

export interface CompareResult {
  keys: number;
  differences: KeyDifference[];
}

type Value =
  | { type: 'string'; value: string | null }
  | { type: 'hash'; value: Record<string, string> }
  | { type: 'list'; value: string[] }
  | { type: 'set'; value: string[] }
  | { type: 'zset'; value: string[] }
  | { type: 'none' | 'other'; value: null };

/** Every key of the prefix, on every master of a cluster, without the prefix. */
async function scanSuffixes(redis: Redis, prefix: string): Promise<Set<string>> {
  const result = new Set<string>();
  await scanKeys(
    redis,
    `${globEscape(prefix)}:*`,
    (keys) => {
      for (const key of keys) result.add(key.slice(prefix.length + 1));
    },
    2000,
  );
  return result;
}

/** Commands one at a time (the client pipelines them, per node on a cluster, where one pipeline spans one node). */
async function readValues(redis: Redis, keys: string[]): Promise<Value[]> {
  const types = await Promise.all(keys.map((k) => redis.type(k)));
  const results = await Promise.all(
    types.map((type, i): Promise<unknown> => {
      const key = keys[i]!;
      if (type === 'string') return redis.get(key);
      if (type === 'hash') return redis.hgetall(key);
      if (type === 'list') return redis.lrange(key, 0, -1);
      if (type === 'set') return redis.smembers(key);
      if (type === 'zset') return redis.zrange(key, 0, -1, 'WITHSCORES');
      return redis.exists(key);
    }),
  );
  return types.map((type, i): Value => {
    const value = results[i];
    switch (type) {
      case 'string':
        return { type, value: value as string | null };
      case 'hash':
        return { type, value: value as Record<string, string> };
      case 'list':
        return { type, value: value as string[] };
      case 'set':
        return { type, value: [...(value as string[])].sort() };
      case 'zset':
        return { type, value: value as string[] };
      case 'none':
        return { type: 'none', value: null };
      default:
        return { type: 'other', value: null };
    }
  });
}

const short = (v: unknown): string => {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
};

/** What differs between two values of the same type, or null; hashes field by field, lists item by item. */
export function describeDifference(live: Value, rebuilt: Value): string | null {
  if (live.type === 'hash' && rebuilt.type === 'hash') {
    const fields = new Set([...Object.keys(live.value), ...Object.keys(rebuilt.value)]);
    const diffs = [...fields]
      .sort()
      .filter((f) => live.value[f] !== rebuilt.value[f])
      .map((f) => `field ${f}: live ${short(live.value[f] ?? '(absent)')} rebuilt ${short(rebuilt.value[f] ?? '(absent)')}`);
    return diffs.length > 0 ? diffs.join('; ') : null;
  }
  if ((live.type === 'list' || live.type === 'set' || live.type === 'zset') && live.type === rebuilt.type) {
    const a = live.value;
    const b = rebuilt.value;
    const step = live.type === 'zset' ? 2 : 1;
    for (let i = 0; i < Math.max(a.length, b.length); i += step) {
      const x = a.slice(i, i + step).join(' score ');
      const y = b.slice(i, i + step).join(' score ');
      if (x !== y) return `${live.type} length live ${a.length / step} rebuilt ${b.length / step}; first difference at index ${i / step}: live ${short(x || '(absent)')} rebuilt ${short(y || '(absent)')}`;
    }
    return null;
  }
  if (live.type === 'string' && rebuilt.type === 'string')
    return live.value === rebuilt.value ? null : `live ${short(live.value)} rebuilt ${short(rebuilt.value)}`;
  return live.type === rebuilt.type ? null : `type live ${live.type} rebuilt ${rebuilt.type}`;
}

/**
 * Compares two key spaces key by key, type-aware (string, hash, list, set, zset): every key present on one
 * side only, of another type, or with another value is a difference. TTLs and consumer offsets are ignored.
 */
export async function compareKeySpaces(
  redis: Redis,
  livePrefix: string,
  rebuiltPrefix: string,
  options: { ignore?: readonly RegExp[]; batch?: number } = {},
): Promise<CompareResult> {
  const ignore = options.ignore ?? DEFAULT_IGNORED;
  const [live, rebuilt] = await Promise.all([scanSuffixes(redis, livePrefix), scanSuffixes(redis, rebuiltPrefix)]);
  const all = [...new Set([...live, ...rebuilt])].filter((k) => !ignore.some((re) => re.test(k))).sort();
  const differences: KeyDifference[] = [];
  const batch = options.batch ?? 500;
  for (let start = 0; start < all.length; start += batch) {
    const suffixes = all.slice(start, start + batch);
    const [liveValues, rebuiltValues] = await Promise.all([
      readValues(redis, suffixes.map((s) => `${livePrefix}:${s}`)),
      readValues(redis, suffixes.map((s) => `${rebuiltPrefix}:${s}`)),
    ]);
    suffixes.forEach((key, i) => {
      const a = liveValues[i]!;
      const b = rebuiltValues[i]!;
      if (a.type === 'none' && b.type !== 'none') differences.push({ key, kind: 'missing-in-live', detail: `rebuilt has a ${b.type}` });
      else if (b.type === 'none' && a.type !== 'none') differences.push({ key, kind: 'missing-in-rebuild', detail: `live has a ${a.type}` });
      else if (a.type !== b.type) differences.push({ key, kind: 'type', detail: `live ${a.type} rebuilt ${b.type}` });
      else {
        const detail = describeDifference(a, b);
        if (detail) differences.push({ key, kind: 'value', detail });
      }
    });
  }
  return { keys: all.length, differences };
}

export function formatDifference(d: KeyDifference): string {
  return `DIFF ${d.kind} ${d.key}: ${d.detail}`;
}
