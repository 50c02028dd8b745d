import { kafkajsOf } from './kafkajs-client.js';
import type { Admin, ConfigResourceTypes } from 'kafkajs';
import type { KafkaClient } from './client.js';
import type { Logger } from 'pino';
import { retryWhileFresh } from './retriable.js';
import {
  checkTopic,
  creationConfig,
  describeFinding,
  replicationFor,
  settingsToObserve,
  type ObservedTopic,
  type Replication,
  type TopicFinding,
} from './topic-check.js';

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly config: Readonly<Record<string, string>>;
}

/**
 * A topic exists with settings weaker than the project declares (or than the cluster's size calls for): refuse
 * to run on it rather than misbehave. `findings` say, per topic and setting, what was found and what is wanted;
 * the message has one line each. Not retriable: an operator must fix the topic.
 */
export class TopicMismatchError extends Error {
  readonly code = 'TOPIC_MISMATCH';
  readonly retriable = false;
  readonly findings: readonly TopicFinding[];
  constructor(findings: readonly TopicFinding[]) {
    const lines = findings.map(describeFinding);
    super(
      findings.length === 1
        ? `refusing ${lines[0]}`
        : `refusing ${findings.length} topic settings that would weaken a guarantee:\n  ${lines.join('\n  ')}`,
    );
    this.name = 'TopicMismatchError';
    this.findings = findings;
  }
}

/**
 * kafkajs' ConfigResourceTypes.TOPIC. Node's ESM loader does not find that name among the exports of kafkajs (a
 * CommonJS module; vitest does, so only the built services would fail), so the value is spelled here.
 */
const TOPIC_RESOURCE = 2 as ConfigResourceTypes;

/** The topics as the cluster reports them, with the ids of every broker holding one of their replicas. */
async function observeTopics(
  admin: Admin,
  specs: readonly TopicSpec[],
): Promise<{ topics: Map<string, ObservedTopic>; replicaBrokers: Set<number> }> {
  const topics = new Map<string, ObservedTopic>();
  const replicaBrokers = new Set<number>();
  if (specs.length === 0) return { topics, replicaBrokers };
  const metadata = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.name) });
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: specs.map((s) => ({ type: TOPIC_RESOURCE, name: s.name, configNames: settingsToObserve(s) })),
  });
  const configs = new Map(
    described.resources.map((r) => [r.resourceName, Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue]))]),
  );
  for (const topic of metadata.topics) {
    for (const partition of topic.partitions) for (const id of partition.replicas) replicaBrokers.add(id);
    topics.set(topic.name, {
      name: topic.name,
      partitions: topic.partitions.length,
      replicationFactor: Math.min(...topic.partitions.map((p) => p.replicas.length)),
      config: configs.get(topic.name) ?? {},
    });
  }
  return { topics, replicaBrokers };
}

/** The topics as the cluster reports them (partitions, replication, the settings their specs name), by name. */
export async function describeTopics(kafka: KafkaClient, specs: readonly TopicSpec[]): Promise<Map<string, ObservedTopic>> {
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  try {
    return (await observeTopics(admin, specs)).topics;
  } finally {
    await admin.disconnect();
  }
}

/**
 * The replication the cluster calls for. Its size is the brokers that answer (describeCluster) and every
 * broker already holding a replica of one of these topics: a broker that is down at start-up still counts
 * once topics live on it. (A cluster whose first start-up finds a broker down creates topics for the brokers
 * it sees; the next start-up with every broker up then refuses them, loudly.)
 */
async function replicationOfCluster(admin: Admin, replicaBrokers: ReadonlySet<number>): Promise<Replication & { brokers: number }> {
  const { brokers } = await admin.describeCluster();
  const size = new Set([...brokers.map((b) => b.nodeId), ...replicaBrokers]).size;
  return { ...replicationFor(size), brokers: size };
}

/** Logs the findings that weaken nothing and throws a `TopicMismatchError` with those that would. */
function verifyTopics(specs: readonly TopicSpec[], observed: ReadonlyMap<string, ObservedTopic>, replication: Replication, logger: Logger): void {
  const findings: TopicFinding[] = [];
  for (const spec of specs) {
    const topic = observed.get(spec.name);
    // Listed a moment ago but gone now (deleted meanwhile): nothing to run on.
    if (!topic) findings.push({ topic: spec.name, setting: 'existence', found: 'missing', wanted: 'present', severity: 'refuse', why: 'the topic disappeared during start-up' });
    else findings.push(...checkTopic(spec, topic, replication));
  }
  for (const finding of findings.filter((f) => f.severity === 'warn')) logger.warn({ finding }, describeFinding(finding));
  const refused = findings.filter((f) => f.severity === 'refuse');
  if (refused.length > 0) throw new TopicMismatchError(refused);
}

/**
 * Creates the project's topics with explicit partitions, replication and settings (auto-creation is off: under
 * KRaft it races and picks broker defaults): replication factor 3 and `min.insync.replicas` 2 from three
 * brokers on, 1 and 1 on a single broker (`replicationFor`). Every topic, existing ones first (before anything
 * is created) and then those just created (another instance may have won the race with other settings), is
 * checked against its spec and the cluster (`checkTopic`): a topic that would weaken a guarantee is refused
 * with a `TopicMismatchError` naming topic, setting, found and wanted; differences that weaken nothing are logged.
 */
export async function ensureTopics(kafka: KafkaClient, specs: readonly TopicSpec[], logger: Logger): Promise<void> {
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = specs.filter((s) => existing.has(s.name));
    const missing = specs.filter((s) => !existing.has(s.name));
    const observed = await observeTopics(admin, present);
    const replication = await replicationOfCluster(admin, observed.replicaBrokers);
    // Refuse existing topics before creating any: a refused start-up leaves the cluster as it found it.
    verifyTopics(present, observed.topics, replication, logger);
    if (missing.length === 0) return;
    // Waiting for leaders, kafkajs tolerates LEADER_NOT_AVAILABLE but not the UNKNOWN_TOPIC_OR_PARTITION a
    // broker also answers for a topic it has just created; a retry finds them existing and only waits.
    await retryWhileFresh(
      () =>
        admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((s) => ({
            topic: s.name,
            numPartitions: s.partitions,
            replicationFactor: replication.replicationFactor,
            configEntries: Object.entries(creationConfig(s, replication)).map(([name, value]) => ({ name, value })),
          })),
        }),
      logger,
    );
    // A leader in the metadata is not yet a broker hosting the partition: the first produce or fetch would
    // meet "This server does not host this topic-partition". Wait until every partition answers.
    for (const spec of missing) await retryWhileFresh(() => admin.fetchTopicOffsets(spec.name), logger);
    logger.info(
      {
        topics: missing.map((s) => s.name),
        replicationFactor: replication.replicationFactor,
        minInsyncReplicas: replication.minInsyncReplicas,
        brokers: replication.brokers,
      },
      'created topics',
    );
    // Another instance starting at the same moment may have created some of them first, differently.
    verifyTopics(missing, (await retryWhileFresh(() => observeTopics(admin, missing), logger)).topics, replication, logger);
  } finally {
    await admin.disconnect();
  }
}
