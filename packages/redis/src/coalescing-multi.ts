import type { ChainableCommander } from './client.js';

type Args = (string | number)[];
interface Recorded {
  name: string;
  key: string;
  args: Args;
  /** HSET only: field → index of the field in `args`. */
  fields?: Map<string, number>;
}

function indexFields(args: Args): Map<string, number> {
  const fields = new Map<string, number>();
  for (let i = 0; i < args.length; i += 2) fields.set(String(args[i]), i);
  return fields;
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
    // The commands the read models use are plain methods (fast); any other one reaches the prototype, a
    // proxy that records it too, so a new command in the read models is never silently dropped.
    const fallback = new Proxy(
      {},
      {
        get: (_target, property) =>
          typeof property === 'string'
            ? (...args: unknown[]) => {
                this.record(property.toLowerCase(), args);
                return this.commander;
              }
            : undefined,
      },
    );
    const direct = Object.create(fallback) as Record<string, (...args: unknown[]) => ChainableCommander>;
    for (const name of ['hset', 'rpush', 'zadd', 'zrem', 'hincrby', 'set', 'del'])
      direct[name] = (...args: unknown[]) => {
        this.record(name, args);
        return this.commander;
      };
    this.commander = direct as unknown as ChainableCommander;
  }

  private record(name: string, raw: unknown[]): void {
    const key = raw[0];
    const args: Args = [];
    for (let i = 1; i < raw.length; i++) {
      const a = raw[i];
      if (typeof a !== 'object' || a === null) args.push(a as string | number);
      else if (Array.isArray(a)) for (const x of a as Args) args.push(x);
      else {
        const fields = a as Record<string, string | number>;
        for (const f in fields) args.push(f, fields[f]!);
      }
    }
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

  /**
   * The merged commands as `[name, key, ...args]` string arrays, in an order with the same effect: per key as
   * recorded, barriers in place. Merged commands longer than `maxArgs` arguments are split (Lua's `unpack`
   * takes at most a few thousand values).
   */
  commands(maxArgs = 1_000): string[][] {
    this.flushGroups();
    const result: string[][] = [];
    for (const r of this.out) {
      if (r.name === 'hincrby') {
        for (let i = 0; i < r.args.length; i += 2) result.push(['hincrby', r.key, String(r.args[i]), String(r.args[i + 1])]);
        continue;
      }
      const step = SPLITTABLE[r.name];
      if (step === undefined || r.args.length <= maxArgs) {
        result.push([r.name, r.key, ...r.args.map(String)]);
        continue;
      }
      const size = maxArgs - (maxArgs % step);
      for (let i = 0; i < r.args.length; i += size) result.push([r.name, r.key, ...r.args.slice(i, i + size).map(String)]);
    }
    this.out.length = 0;
    return result;
  }

  /** Appends the merged commands to a real MULTI (or pipeline). */
  writeTo(multi: ChainableCommander): ChainableCommander {
    for (const [name, ...args] of this.commands()) void multi.call(name!, ...args);
    return multi;
  }
}

/** Merged commands that can be split again, and how many arguments belong together. */
const SPLITTABLE: Record<string, number> = { rpush: 1, lpush: 1, sadd: 1, srem: 1, zrem: 1, zadd: 2, hset: 2 };

/**
 * Runs a list of commands inside Redis, atomically like a MULTI: one EVAL per chunk instead of thousands of
 * commands, each of which costs the client microseconds to encode and its reply to parse. Every argument is a
 * string (no Lua number conversion). Keys are not declared, so this is for a standalone Redis, not a cluster.
 */
export const APPLY_COMMANDS_LUA = `local commands = cjson.decode(ARGV[1])
for i = 1, #commands do redis.call(unpack(commands[i])) end
return #commands`;

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
      // Later values win; a field set again keeps its place, which HSET does not care about.
      const fields = (last.fields ??= indexFields(last.args));
      for (let i = 0; i < args.length; i += 2) {
        const at = fields.get(String(args[i]));
        if (at === undefined) {
          fields.set(String(args[i]), last.args.length);
          last.args.push(args[i]!, args[i + 1]!);
        } else last.args[at + 1] = args[i + 1]!;
      }
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
