import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTopicSpecs, topicNames } from '@consult/contracts';
import { createKafka, createTopicsAsGiven, describeTopics, ensureTopics, TopicMismatchError, type KafkaClient } from '@consult/kafka';
import { startKafkaCluster, type KafkaCluster } from './support/kafka-cluster.js';
import { testLogger, uniqueName } from './support/kafka.js';

/**
 * On a three-broker KRaft cluster (the launcher's `up --brokers 3`, on ports of this file's own), the project's
 * topics get three replicas with two in sync, and a topic that acknowledges writes on one replica is refused.
 * Ports: KAFKA_CLUSTER_TEST_PORTS / KAFKA_CLUSTER_TEST_CONTROLLER_PORTS (comma-separated, three each).
 */
const ports = (value: string): number[] => value.split(',').map(Number);
const PORTS = ports(process.env.KAFKA_CLUSTER_TEST_PORTS ?? '21092,21093,21094');
const CONTROLLER_PORTS = ports(process.env.KAFKA_CLUSTER_TEST_CONTROLLER_PORTS ?? '21192,21193,21194');

async function refusal(attempt: Promise<unknown>): Promise<TopicMismatchError> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TopicMismatchError);
  return error as TopicMismatchError;
}

describe('topics on a three-broker cluster', () => {
  let cluster: KafkaCluster | undefined;
  let kafka: KafkaClient;

  beforeAll(async () => {
    cluster = await startKafkaCluster({ brokers: 3, ports: PORTS, controllerPorts: CONTROLLER_PORTS });
    kafka = createKafka({ brokers: cluster.brokers.split(','), clientId: 'cluster-test', logger: testLogger });
  }, 240_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 120_000);

  it('creates every project topic with replication factor 3 and min.insync.replicas 2, and accepts them after', async () => {
    const specs = allTopicSpecs(topicNames(uniqueName('cluster')));
    await ensureTopics(kafka, specs, testLogger);
    const observed = await describeTopics(kafka, specs);
    for (const spec of specs)
      expect(observed.get(spec.name), spec.name).toMatchObject({
        partitions: spec.partitions,
        replicationFactor: 3,
        config: { ...spec.config, 'min.insync.replicas': '2' },
      });
    await ensureTopics(kafka, specs, testLogger);
  });

  it('refuses a topic created with min.insync.replicas 1, and one with a single copy', async () => {
    const history = { 'retention.ms': '-1', 'retention.bytes': '-1', 'cleanup.policy': 'delete' };
    const weak = { name: uniqueName('weak'), partitions: 6, config: history };
    const single = { name: uniqueName('single'), partitions: 6, config: history };
    await createTopicsAsGiven(kafka, [
      { ...weak, replicationFactor: 3, config: { ...history, 'min.insync.replicas': '1' } },
      { ...single, replicationFactor: 1, config: { ...history, 'min.insync.replicas': '1' } },
    ]);
    const weakRefusal = await refusal(ensureTopics(kafka, [weak], testLogger));
    expect(weakRefusal.message).toBe(
      `refusing topic ${weak.name}: min.insync.replicas is 1, wanted 2 or more (a write would be acknowledged before enough brokers have it: losing one broker could lose it)`,
    );
    const singleRefusal = await refusal(ensureTopics(kafka, [single], testLogger));
    expect(singleRefusal.findings.map((f) => [f.setting, f.found, f.wanted])).toEqual([
      ['replication factor', '1', '3 or more'],
      ['min.insync.replicas', '1', '2 or more'],
    ]);
  });
});
