import { kafkajsOf } from './kafkajs-client.js';
import { describe, expect, it } from 'vitest';
import { ConfigResourceTypes } from 'kafkajs';
import { testKafka, testLogger, uniqueName } from '../../../tests/support/kafka.js';
import { describeTopics, ensureTopics, TopicMismatchError } from './topics.js';

/** Auto-created topics misbehave under KRaft: the project creates its own, with explicit partitions and settings. */
describe('ensureTopics', () => {
  const kafka = testKafka();

  it('creates topics with the declared partitions and settings, idempotently, and refuses a mismatch', async () => {
    const name = uniqueName('topic');
    const spec = { name, partitions: 4, config: { 'retention.ms': '-1', 'cleanup.policy': 'delete' } };
    await ensureTopics(kafka, [spec], testLogger);
    await ensureTopics(kafka, [spec], testLogger);
    const admin = kafkajsOf(kafka).admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [name] });
      expect(metadata.topics[0]?.partitions).toHaveLength(4);
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name, configNames: ['retention.ms', 'cleanup.policy'] }],
      });
      const entries = Object.fromEntries(configs.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
      expect(entries).toEqual({ 'retention.ms': '-1', 'cleanup.policy': 'delete' });
    } finally {
      await admin.disconnect();
    }
    // One broker: one copy, one in sync.
    expect((await describeTopics(kafka, [spec])).get(name)).toMatchObject({ replicationFactor: 1, config: { 'min.insync.replicas': '1' } });
    await expect(ensureTopics(kafka, [{ ...spec, partitions: 6 }], testLogger)).rejects.toBeInstanceOf(TopicMismatchError);
  });

  it('refuses a history topic that someone created with finite retention, saying topic, setting, found and wanted', async () => {
    const name = uniqueName('history');
    const admin = kafkajsOf(kafka).admin();
    await admin.connect();
    try {
      // As a broker default or a hand-made topic would have it: everything right but a week's retention.
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: name, numPartitions: 6, configEntries: [{ name: 'retention.ms', value: '604800000' }, { name: 'cleanup.policy', value: 'delete' }] }],
      });
    } finally {
      await admin.disconnect();
    }
    const spec = { name, partitions: 6, config: { 'retention.ms': '-1', 'retention.bytes': '-1', 'cleanup.policy': 'delete' } };
    // Beside it a topic not yet created: a refused start-up creates nothing.
    const other = { name: uniqueName('other'), partitions: 1, config: {} };
    const refusal = await ensureTopics(kafka, [spec, other], testLogger).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(TopicMismatchError);
    expect((refusal as TopicMismatchError).message).toBe(
      `refusing topic ${name}: retention.ms is 604800000, wanted -1 (this topic keeps its records forever; a finite retention would delete history)`,
    );
    expect((refusal as TopicMismatchError).findings).toEqual([
      expect.objectContaining({ topic: name, setting: 'retention.ms', found: '604800000', wanted: '-1', severity: 'refuse' }),
    ]);
    await admin.connect();
    try {
      expect(await admin.listTopics()).not.toContain(other.name);
    } finally {
      await admin.disconnect();
    }
  });
});
