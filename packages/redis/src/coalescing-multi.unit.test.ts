import type { ChainableCommander } from './client.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CoalescingMulti } from './coalescing-multi.js';

/** Just enough Redis to compare final states: strings, hashes, lists, sorted sets. */
class FakeRedis {
  readonly data = new Map<string, unknown>();
  readonly commands: unknown[][] = [];
  readonly commander = new Proxy({} as ChainableCommander, {
    get: (_t, name) => (...args: unknown[]) => {
      this.run(String(name), args);
      return this.commander;
    },
  });
  private hash(key: string): Map<string, string> {
    if (!this.data.has(key)) this.data.set(key, new Map<string, string>());
    return this.data.get(key) as Map<string, string>;
  }
  private run(name: string, args: unknown[]): void {
    if (name === 'call') return this.run(String(args[0]), args.slice(1));
    this.commands.push([name, ...args]);
    const [key, ...rest] = args as [string, ...unknown[]];
    const flat = rest.flatMap((a): unknown[] => (a !== null && typeof a === 'object' ? Object.entries(a).flat() : [a]));
    switch (name) {
      case 'hset':
        for (let i = 0; i < flat.length; i += 2) this.hash(key).set(String(flat[i]), String(flat[i + 1]));
        break;
      case 'hincrby': {
        const h = this.hash(key);
        h.set(String(flat[0]), String(Number(h.get(String(flat[0])) ?? 0) + Number(flat[1])));
        break;
      }
      case 'rpush': {
        const list = (this.data.get(key) as string[] | undefined) ?? [];
        list.push(...flat.map(String));
        this.data.set(key, list);
        break;
      }
      case 'zadd': {
        const z = (this.data.get(key) as Map<string, number> | undefined) ?? new Map<string, number>();
        for (let i = 0; i < flat.length; i += 2) z.set(String(flat[i + 1]), Number(flat[i]));
        this.data.set(key, z);
        break;
      }
      case 'zrem':
        for (const m of flat) (this.data.get(key) as Map<string, number> | undefined)?.delete(String(m));
        break;
      case 'set':
        this.data.set(key, String(flat[0]));
        break;
      case 'del':
        this.data.delete(key);
        break;
      default:
        throw new Error(`fake redis has no ${name}`);
    }
  }
}

const keys = ['a', 'b', 'c'];
const command = fc.oneof(
  fc.tuple(fc.constant('hset'), fc.constantFrom(...keys), fc.dictionary(fc.constantFrom('f', 'g', 'h'), fc.integer({ min: 0, max: 9 }), { minKeys: 1 })),
  fc.tuple(fc.constant('hincrby'), fc.constantFrom(...keys), fc.constantFrom('f', 'g'), fc.integer({ min: -2, max: 2 })),
  fc.tuple(fc.constant('rpush'), fc.constantFrom(...keys), fc.string({ maxLength: 3 })),
  fc.tuple(fc.constant('zadd'), fc.constantFrom(...keys), fc.integer({ min: 0, max: 5 }), fc.constantFrom('x', 'y', 'z')),
  fc.tuple(fc.constant('zrem'), fc.constantFrom(...keys), fc.constantFrom('x', 'y')),
  fc.tuple(fc.constant('set'), fc.constantFrom(...keys), fc.string({ maxLength: 3 })),
  fc.tuple(fc.constant('del'), fc.constantFrom(...keys)),
);

function apply(target: ChainableCommander, commands: unknown[][]): void {
  for (const [name, ...args] of commands) (target as unknown as Record<string, (...a: unknown[]) => unknown>)[name as string]!(...args);
}

describe('CoalescingMulti', () => {
  it('leaves Redis in the same state as the commands one by one (type clashes aside)', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), (commands) => {
        const direct = new FakeRedis();
        const merged = new FakeRedis();
        let directError: unknown = null;
        try {
          apply(direct.commander, commands);
        } catch (error) {
          directError = error;
        }
        fc.pre(directError === null);
        const coalescing = new CoalescingMulti();
        apply(coalescing.commander, commands);
        coalescing.writeTo(merged.commander);
        expect(merged.data).toEqual(direct.data);
        expect(merged.commands.length).toBeLessThanOrEqual(direct.commands.length);
        // Split into short commands (as for the Lua script), the effect is the same too.
        const split = new FakeRedis();
        const again = new CoalescingMulti();
        apply(again.commander, commands);
        for (const [name, ...args] of again.commands(4)) split.commander.call(name!, ...args);
        expect(split.data).toEqual(direct.data);
      }),
      { numRuns: 500 },
    );
  });

  it('merges what a batch of projected events writes into a few commands', () => {
    const coalescing = new CoalescingMulti();
    for (let i = 1; i <= 100; i++) {
      coalescing.commander.rpush('history', `e${i}`);
      coalescing.commander.hincrby('active', i % 2 ? 'KHM' : 'THA', 1);
      coalescing.commander.hset('cons', { version: i });
    }
    const fake = new FakeRedis();
    coalescing.writeTo(fake.commander);
    expect(fake.commands).toHaveLength(4);
    expect(fake.data.get('cons')).toEqual(new Map([['version', '100']]));
    expect(fake.data.get('active')).toEqual(new Map([['KHM', '50'], ['THA', '50']]));
  });
});
