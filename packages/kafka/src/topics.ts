import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';

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

type Admin = ReturnType<Kafka['admin']>;

/**
 * A topic whose leaders are in the metadata may still not be hosted by them for a moment (a brand-new broker
 * answers "This server does not host this topic-partition"): wait until every new topic answers a ListOffsets,
 * so that the caller's first produce or fetch does not fail.
 */
async function untilServed(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const topic of topics)
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.fetchTopicOffsets(topic);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(500, 20 * 2 ** attempt)));
      }
    }
}

/** Deletes topics (benchmarks' and tests' throw-away ones); a topic already gone is not an error. */
export async function deleteTopics(kafka: Kafka, topics: readonly string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [...topics] }).catch(() => undefined);
  } finally {
    await admin.disconnect();
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
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.name,
          numPartitions: s.partitions,
          replicationFactor: -1,
          configEntries: Object.entries(s.config).map(([name, value]) => ({ name, value })),
        })),
      });
      logger.info({ topics: missing.map((s) => s.name) }, 'created topics');
      await untilServed(admin, missing.map((s) => s.name));
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
