import { describe, expect, inject, it } from 'vitest';
import { testKafka } from '../../../tests/support/kafka.js';
import { shortestSessionMs } from './session.js';

describe('the failover session on a real broker', () => {
  // The README says: 3 s on infra/kafka/kafka.sh's broker. A broker named by KAFKA_BROKERS may differ.
  it.skipIf(inject('kafkaSource') === 'configured')('is 3 s on the broker infra/kafka/kafka.sh starts', async () => {
    expect(await shortestSessionMs(testKafka())).toBe(3_000);
  });
});
