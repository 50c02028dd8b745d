import type { ChainableCommander } from '@consult/redis';

type Args = (string | number)[];
interface Recorded {
  name: string;
  key: string;
  args: Args;
}

/** Commands on exactly one key (the first argument) that this recorder can group by key and merge. */
const SINGLE_KEY = new Set(['hset', 'rpush', 'zadd', 'zrem', 'hincrby', 'set', 'del', 'expire', 'lpush', 'sadd', 'srem']);

/**
 * Records what the read-model functions append to a MULTI and sends the same final effect with far fewer
 * commands: each command touches one key, so within one MULTI only the order per key matters; adjacent
 * commands of one kind on one key are merged (RPUSH k a; RPUSH k b → RPUSH k a b; HSET fields, later wins;
 * ZADD pairs; HINCRBY summed per field). Any other command is a barrier: everything recorded before it is
 * sent first, in order. A rebuild sends ~7 commands per event otherwise, and client-side command handling is
 * what limits it.
 */
export class CoalescingMulti {
  private readonly byKey = new Map<string, Recorded[]>();
  private readonly out: Recorded[] = [];
  /** The object to hand to `applyEvent` & co in place of a MULTI. */
  readonly commander: ChainableCommander;

  constructor() {
    this.commander = new Proxy({} as ChainableCommander, {
      get: (_target, property) => {
        if (typeof property !== 'string') return undefined;
        return (...args: unknown[]) => {
          this.record(property.toLowerCase(), args);
          return this.commander;
        };
      },
    });
  }

  private record(name: string, raw: unknown[]): void {
    const [key, ...rest] = raw;
    const args = rest.flatMap((a): Args => (a !== null && typeof a === 'object' && !Array.isArray(a) ? Object.entries(a).flat() as Args : Array.isArray(a) ? (a as Args) : [a as string | number]));
    if (typeof key !== 'string' || !SINGLE_KEY.has(name) || (name === 'del' && args.length > 0)) {
      this.flushGroups();
      this.out.push({ name, key: String(key), args: typeof key === 'string' ? args : (raw as Args) });
      return;
    }
    const list = this.byKey.get(key);
    const last = list?.[list.length - 1];
    if (last && last.name === name && merge(last, args)) return;
    const entry: Recorded = { name, key, args };
    if (list) list.push(entry);
    else this.byKey.set(key, [entry]);
  }

  private flushGroups(): void {
    for (const list of this.byKey.values()) for (const r of list) this.out.push(r);
    this.byKey.clear();
  }

  /** Number of commands that will be sent. */
  get size(): number {
    let n = this.out.length;
    for (const list of this.byKey.values()) n += list.reduce((sum, r) => sum + (r.name === 'hincrby' ? r.args.length / 2 : 1), 0);
    return n;
  }

  /** Appends the merged commands to a real MULTI (or pipeline). */
  writeTo(multi: ChainableCommander): ChainableCommander {
    this.flushGroups();
    for (const r of this.out) {
      if (r.name === 'hincrby') {
        for (let i = 0; i < r.args.length; i += 2) multi.hincrby(r.key, String(r.args[i]), r.args[i + 1]!);
      } else {
        void multi.call(r.name, r.key, ...r.args);
      }
    }
    this.out.length = 0;
    return multi;
  }
}

/** Merges `args` into `last` (same command, same key) when the result is the same; false when it cannot. */
function merge(last: Recorded, args: Args): boolean {
  switch (last.name) {
    case 'rpush':
    case 'lpush':
    case 'zadd':
    case 'sadd':
    case 'srem':
    case 'zrem':
      // ZADD with flags (NX, XX, GT…) takes them before the pairs: such commands are not merged.
      if (last.name === 'zadd' && (!plainPairs(last.args) || !plainPairs(args))) return false;
      for (const a of args) last.args.push(a);
      return true;
    case 'hset': {
      if (args.length % 2 !== 0) return false;
      const fields = new Map<string, string | number>();
      for (let i = 0; i < last.args.length; i += 2) fields.set(String(last.args[i]), last.args[i + 1]!);
      for (let i = 0; i < args.length; i += 2) fields.set(String(args[i]), args[i + 1]!);
      last.args = [...fields].flat();
      return true;
    }
    case 'hincrby': {
      // Stored as field/amount pairs, summed per field; sent as one HINCRBY per field.
      const [field, amount] = args;
      if (args.length !== 2 || !Number.isFinite(Number(amount))) return false;
      for (let i = 0; i < last.args.length; i += 2)
        if (String(last.args[i]) === String(field)) {
          last.args[i + 1] = Number(last.args[i + 1]) + Number(amount);
          return true;
        }
      last.args.push(String(field), Number(amount));
      return true;
    }
    default:
      return false;
  }
}

/** ZADD arguments that are only score/member pairs (no NX, XX, GT, LT, CH, INCR flags). */
function plainPairs(args: Args): boolean {
  return args.length % 2 === 0 && !(typeof args[0] === 'string' && /^[A-Za-z]+$/.test(args[0]));
}
