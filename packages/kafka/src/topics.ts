import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { retryWhileFresh } from './retriable.js';

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly config: Readonly<Record<string, string>>;
}

/** A topic exists with settings other than the project declares: refuse to run on it rather than misbehave. */
export class TopicMismatchError extends Error {
  readonly code = 'TOPIC_MISMATCH';
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = 'TopicMismatchError';
  }
}

/**
 * Creates the project's topics with explicit partitions and settings (auto-creation is off: under KRaft it
 * races and picks broker defaults). Existing topics are checked for their partition count.
 */
export async function ensureTopics(kafka: Kafka, specs: readonly TopicSpec[], logger: Logger): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    if (missing.length > 0) {
      // Waiting for leaders, kafkajs tolerates LEADER_NOT_AVAILABLE but not the UNKNOWN_TOPIC_OR_PARTITION a
      // broker also answers for a topic it has just created; a retry finds them existing and only waits.
      await retryWhileFresh(
        () =>
          admin.createTopics({
            waitForLeaders: true,
            topics: missing.map((s) => ({
              topic: s.name,
              numPartitions: s.partitions,
              replicationFactor: -1,
              configEntries: Object.entries(s.config).map(([name, value]) => ({ name, value })),
            })),
          }),
        logger,
      );
      // A leader in the metadata is not yet a broker hosting the partition: the first produce or fetch would
      // meet "This server does not host this topic-partition". Wait until every partition answers.
      for (const spec of missing) await retryWhileFresh(() => admin.fetchTopicOffsets(spec.name), logger);
      logger.info({ topics: missing.map((s) => s.name) }, 'created topics');
    }
    const present = specs.filter((s) => existing.has(s.name));
    if (present.length > 0) {
      const metadata = await admin.fetchTopicMetadata({ topics: present.map((s) => s.name) });
      for (const topic of metadata.topics) {
        const spec = present.find((s) => s.name === topic.name);
        if (spec && topic.partitions.length !== spec.partitions)
          throw new TopicMismatchError(
            `topic ${topic.name} has ${topic.partitions.length} partitions; the project declares ${spec.partitions}`,
          );
      }
    }
  } finally {
    await admin.disconnect();
  }
}
