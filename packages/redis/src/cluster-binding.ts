import type { RedisClient as Redis } from './slots.js';
import type { KeySpace } from './client.js';

/**
 * A key space holds state derived from one Kafka cluster's logs, offsets included. Read against another
 * cluster (a reset broker, a second clone sharing one Redis) those offsets point past the new events and the
 * read models silently stop moving. The key space therefore records the id of the cluster it was built from.
 */
export class KeySpaceMismatch extends Error {
  readonly code = 'KEY_SPACE_MISMATCH';
  readonly retriable = false;
  constructor(prefix: string, recorded: string, current: string) {
    super(
      `Redis key space '${prefix}' was built from Kafka cluster ${recorded}, not from this one (${current}): ` +
        `delete its keys (they are all derived and will be rebuilt) or use another KEY_PREFIX`,
    );
    this.name = 'KeySpaceMismatch';
  }
}

/**
 * Claims the key space for `clusterId`. With `onMismatch: 'fail'` (services) a key space of another cluster is
 * refused; with `'reset'` (the development launcher, before any service starts) its keys are deleted first.
 */
export async function bindKeySpaceToCluster(
  redis: Redis,
  keys: KeySpace,
  clusterId: string,
  onMismatch: 'fail' | 'reset',
): Promise<'claimed' | 'matched' | 'reset'> {
  const key = keys.key('kafka-cluster');
  const recorded = await redis.get(key);
  if (recorded === clusterId) return 'matched';
  if (recorded === null) {
    // Keys without a recorded cluster are of unknown origin: the launcher clears them too.
    if (onMismatch === 'reset' && (await keys.clear(redis)) > 0) {
      await redis.set(key, clusterId);
      return 'reset';
    }
    await redis.set(key, clusterId, 'NX');
    const now = await redis.get(key);
    if (now !== clusterId) throw new KeySpaceMismatch(keys.prefix, now ?? '?', clusterId);
    return 'claimed';
  }
  if (onMismatch === 'fail') throw new KeySpaceMismatch(keys.prefix, recorded, clusterId);
  await keys.clear(redis);
  await redis.set(key, clusterId);
  return 'reset';
}
