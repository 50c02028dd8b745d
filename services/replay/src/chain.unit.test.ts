import { chainHash } from '@consult/contracts';
import { describe, expect, it } from 'vitest';
import { verifyChains, type ChainRecord } from './chain.js';

/** A valid chain of `n` events for one stream, as the writer would produce it. */
function chain(key: string, n: number): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  let previousHash: string | null = null;
  for (let sequence = 1; sequence <= n; sequence++) {
    const unhashed = { id: `${key}-${sequence}`, key, type: 'test.event', sequence, previousHash, data: { n: sequence, text: 'é\u2028"' } };
    const hash = chainHash(unhashed, previousHash);
    events.push({ ...unhashed, hash });
    previousHash = hash;
  }
  return events;
}

const records = (events: Record<string, unknown>[], partition = 0): ChainRecord[] =>
  events.map((e, i) => ({ topic: 't', partition, offset: String(i), key: String(e.key), value: JSON.stringify(e) }));

describe('verifyChains', () => {
  it('accepts intact interleaved chains', () => {
    const a = records(chain('a', 5));
    const b = records(chain('b', 3), 1);
    const report = verifyChains([a[0]!, b[0]!, a[1]!, b[1]!, a[2]!, a[3]!, b[2]!, a[4]!]);
    expect(report).toEqual({ events: 8, streams: 2, broken: [] });
  });

  it('reports an altered event as a hash mismatch at its position, once per stream', () => {
    const events = chain('a', 4);
    events[1] = { ...events[1], data: { n: 99 } };
    const report = verifyChains(records(events));
    expect(report.broken).toEqual([
      expect.objectContaining({ stream: 'a', problem: 'hash-mismatch', partition: 0, offset: '1', sequence: 2, expectedSequence: 2 }),
    ]);
  });

  it('reports a rehashed alteration as a previous-hash mismatch on the next event', () => {
    const events = chain('a', 3);
    const { hash: _h, ...rest }: Record<string, unknown> = { ...events[1], data: { n: 99 } };
    events[1] = { ...rest, hash: chainHash(rest, rest.previousHash as string) };
    const report = verifyChains(records(events));
    expect(report.broken).toEqual([expect.objectContaining({ problem: 'previous-hash-mismatch', offset: '2', sequence: 3 })]);
  });

  it('reports a gap, a reordering and a duplicate', () => {
    const events = chain('a', 4);
    expect(verifyChains(records([events[0]!, events[2]!, events[3]!])).broken).toEqual([
      expect.objectContaining({ problem: 'sequence-gap', offset: '1', sequence: 3, expectedSequence: 2 }),
    ]);
    expect(verifyChains(records([events[0]!, events[1]!, events[1]!])).broken).toEqual([
      expect.objectContaining({ problem: 'sequence-out-of-order', offset: '2', sequence: 2, expectedSequence: 3 }),
    ]);
    expect(verifyChains(records([events[1]!, events[0]!])).broken).toEqual([
      expect.objectContaining({ problem: 'sequence-gap', offset: '0', sequence: 2, expectedSequence: 1 }),
    ]);
  });

  it('reports malformed values and a first event with a previous hash', () => {
    expect(verifyChains([{ topic: 't', partition: 2, offset: '7', key: 'x', value: 'not json' }]).broken).toEqual([
      expect.objectContaining({ stream: 'x', problem: 'malformed', partition: 2, offset: '7' }),
    ]);
    const [first] = chain('a', 1);
    const forged = { ...first, previousHash: 'f'.repeat(64) };
    expect(verifyChains(records([forged])).broken).toEqual([expect.objectContaining({ problem: 'previous-hash-mismatch' })]);
  });
});
