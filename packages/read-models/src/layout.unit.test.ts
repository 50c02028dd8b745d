import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { partitionOfKey, STREAM_PARTITIONS, topicNames } from '@consult/contracts';
import {
  CONSULTATION_TAGS,
  consultationTag,
  consultationTagOf,
  CSO_TAGS,
  csoTagOf,
  IDENTITY_TAG,
  mergeRanges,
  projectorOffsetLayout,
  withScores,
  type Ranked,
} from './layout.js';

/** Redis's order of one sorted set holding every entry: ZRANGE (score, then member bytes), ZREVRANGE its reverse. */
function oneSet(entries: readonly Ranked[], order: 'asc' | 'desc'): Ranked[] {
  const sorted = [...entries].sort((a, b) =>
    a.score !== b.score ? a.score - b.score : Buffer.compare(Buffer.from(a.member), Buffer.from(b.member)),
  );
  return order === 'asc' ? sorted : sorted.reverse();
}

describe('the read models’ hash tags', () => {
  it('put a stream’s keys under the tag of the partition the producers give its key', () => {
    fc.assert(
      fc.property(fc.uuid(), (id) => {
        expect(consultationTagOf(id)).toBe(consultationTag(partitionOfKey(id, STREAM_PARTITIONS)));
        expect(CONSULTATION_TAGS).toContain(consultationTagOf(id));
        expect(CSO_TAGS).toContain(csoTagOf(id));
      }),
    );
  });

  it('give every topic partition the projector reads one tag, and list every tag its offsets may be under', () => {
    const topics = topicNames('t');
    const layout = projectorOffsetLayout(topics);
    for (let p = 0; p < STREAM_PARTITIONS; p++) {
      expect(layout.tagOf(topics.consultationEvents, p)).toBe(`c${p}`);
      expect(layout.tagOf(topics.consultationOutcomes, p)).toBe(`c${p}`);
      expect(layout.tagOf(topics.csoEvents, p)).toBe(`s${p}`);
      expect(layout.tagOf(topics.csoOutcomes, p)).toBe(`s${p}`);
    }
    expect(layout.tagOf(topics.identityEvents, 0)).toBe(IDENTITY_TAG);
    expect(new Set(layout.tags).size).toBe(2 * STREAM_PARTITIONS + 1);
    expect(() => layout.tagOf(topics.quarantine, 0)).toThrow(/not a read-model topic/);
  });
});

describe('mergeRanges', () => {
  const entry = fc.record({
    member: fc.oneof(fc.uuid(), fc.string({ maxLength: 4 }), fc.string({ unit: 'binary', maxLength: 3 })),
    // Few distinct scores, so ties (ordered by member) are common.
    score: fc.integer({ min: 0, max: 5 }).map((n) => 1_700_000_000_000 + n * 1_000),
    tag: fc.constantFrom(...CONSULTATION_TAGS),
  });
  const distinct = fc.uniqueArray(entry, { selector: (e) => e.member, maxLength: 60 });

  it('pages the per-tag sets exactly as one set holding them all, in both orders', () => {
    fc.assert(
      fc.property(distinct, fc.constantFrom('asc' as const, 'desc' as const), fc.nat(70), fc.integer({ min: 1, max: 30 }), (entries, order, offset, limit) => {
        // Each tag's part as Redis answers ZRANGE/ZREVRANGE key 0 offset+limit-1: its own order, cut.
        const parts = CONSULTATION_TAGS.map((tag) => oneSet(entries.filter((e) => e.tag === tag), order).slice(0, offset + limit));
        expect(mergeRanges(parts, order, offset, limit)).toEqual(oneSet(entries, order).slice(offset, offset + limit));
      }),
      { numRuns: 500 },
    );
  });

  it('reads WITHSCORES replies', () => {
    expect(withScores(['a', '1', 'b', '2.5'], 'c1')).toEqual([
      { member: 'a', score: 1, tag: 'c1' },
      { member: 'b', score: 2.5, tag: 'c1' },
    ]);
  });
});
