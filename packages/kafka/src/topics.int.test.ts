import { describe, expect, it } from 'vitest';
import { ConfigResourceTypes } from 'kafkajs';
import { testKafka, testLogger, uniqueName } from '../../../tests/support/kafka.js';
import { ensureTopics, TopicMismatchError } from './topics.js';

/** Auto-created topics misbehave under KRaft: the project creates its own, with explicit partitions and settings. */
describe('ensureTopics', () => {
  const kafka = testKafka();

  it('creates topics with the declared partitions and settings, idempotently, and refuses a mismatch', async () => {
    const name = uniqueName('topic');
    const spec = { name, partitions: 4, config: { 'retention.ms': '-1', 'cleanup.policy': 'delete' } };
    await ensureTopics(kafka, [spec], testLogger);
    await ensureTopics(kafka, [spec], testLogger);
    const admin = kafka.admin();
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
    await expect(ensureTopics(kafka, [{ ...spec, partitions: 6 }], testLogger)).rejects.toBeInstanceOf(TopicMismatchError);
  });
});
