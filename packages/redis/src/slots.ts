import { Cluster, type Redis, type RedisOptions } from 'ioredis';

/** A connection to one Redis or to a Redis Cluster (`createRedisClient`). */
export type RedisClient = Redis | Cluster;

/**
 * The part of a key that picks its hash slot, by Redis Cluster's rule: the text between the first `{` and the
 * next `}` when that is not empty, else the whole key. Keys with one tag always share a slot, so one script or
 * transaction may touch them together on a cluster.
 */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

/** Commands (`[name, key, ...args]`) whose second element is not a key. */
const KEYLESS = new Set(['publish']);

/**
 * Commands as a script takes them with their keys declared (cluster Redis routes and checks a script by its
 * KEYS): the distinct keys, in first-use order, and the commands as JSON with each key replaced by its index
 * in KEYS (a JSON number; `firstIndex` is the index of the first command key, after the script's own keys).
 */
export function declareKeys(commands: readonly (readonly string[])[], firstIndex = 1): { keys: string[]; json: string } {
  const index = new Map<string, number>();
  const keys: string[] = [];
  const encoded = commands.map((command) => {
    const [name, key, ...rest] = command;
    if (key === undefined || KEYLESS.has(name!.toLowerCase())) return command;
    let at = index.get(key);
    if (at === undefined) {
      at = firstIndex + keys.length;
      index.set(key, at);
      keys.push(key);
    }
    return [name, at, ...rest];
  });
  return { keys, json: JSON.stringify(encoded) };
}

/** Lua: turns the commands of `declareKeys` back into calls, each key taken from KEYS. */
export const CALL_DECLARED_LUA = `local function run(commands)
  for i = 1, #commands do
    local c = commands[i]
    if type(c[2]) == 'number' then c[2] = KEYS[c[2]] end
    redis.call(unpack(c))
  end
end`;

/**
 * Runs commands inside Redis, one script per hash tag (atomic per tag, which is all a cluster can offer across
 * slots; order per key kept): for writes into a key space nobody reads yet, such as a rebuild.
 */
export const APPLY_DECLARED_LUA = `${CALL_DECLARED_LUA}
local commands = cjson.decode(ARGV[1])
run(commands)
return #commands`;

export async function applyCommands(redis: RedisClient, commands: readonly (readonly string[])[]): Promise<void> {
  const byTag = new Map<string, (readonly string[])[]>();
  for (const command of commands) {
    const tag = command[1] === undefined ? '' : hashTagOf(command[1]);
    const group = byTag.get(tag);
    if (group) group.push(command);
    else byTag.set(tag, [command]);
  }
  await Promise.all(
    [...byTag.values()].map((group) => {
      const { keys, json } = declareKeys(group);
      return redis.eval(APPLY_DECLARED_LUA, keys.length, ...keys, json);
    }),
  );
}

/** The masters of a cluster, or the one Redis: where key-space scans must look. */
export function mastersOf(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/** Every key matching `pattern` on every master (SCAN), handed over a page at a time; stops when `onKeys` says so. */
export async function scanKeys(
  redis: RedisClient,
  pattern: string,
  onKeys: (keys: string[], node: Redis) => Promise<void | 'stop'> | void | 'stop',
  count = 1000,
): Promise<void> {
  for (const node of mastersOf(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0 && (await onKeys(keys, node)) === 'stop') return;
    } while (cursor !== '0');
  }
}

/**
 * A connection of its own to the same Redis or cluster (for SUBSCRIBE or blocking reads, which hold their
 * connection), with `options` for its connections.
 */
export function duplicateClient(redis: RedisClient, options: RedisOptions = {}): RedisClient {
  if (redis instanceof Cluster) {
    const { enableAutoPipelining, ...perNode } = options;
    return redis.duplicate(undefined, {
      ...(enableAutoPipelining !== undefined ? { enableAutoPipelining } : {}),
      redisOptions: { ...redis.options.redisOptions, ...perNode },
    });
  }
  return redis.duplicate(options);
}
