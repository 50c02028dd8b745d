import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { murmur2, partitionOfKey } from '@consult/contracts';
import { PRODUCER_DEFAULTS } from './kafkajs-client.js';

/** Readers find a stream's derived state in Redis by its partition: it must be the one the producers chose. */
describe('partitionOfKey', () => {
  const partitioner = PRODUCER_DEFAULTS.createPartitioner!();
  const kafkajs = (key: string, partitions: number): number =>
    partitioner({
      topic: 't',
      partitionMetadata: Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] })),
      message: { key, value: null },
    });

  it('agrees with the producers’ default partitioner for any key and partition count', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uuid(), fc.string(), fc.string({ unit: 'binary' })), fc.integer({ min: 1, max: 64 }), (key, partitions) => {
        expect(partitionOfKey(key, partitions)).toBe(kafkajs(key, partitions));
      }),
      { numRuns: 2_000 },
    );
  });

  it('is Kafka’s murmur2 (the Java client’s test vectors)', () => {
    const bytes = (s: string) => Buffer.from(s, 'utf8');
    expect(murmur2(bytes('21'))).toBe(-973932308);
    expect(murmur2(bytes('foobar'))).toBe(-790332482);
    expect(murmur2(bytes('a-little-bit-long-string'))).toBe(-985981536);
  });
});
