import { csoWriterGroupId, writerGroupId, type TopicNames } from '@consult/contracts';
import type { Kafka } from '@consult/kafka';
import { KeySpace, RedisOffsetStore, type Redis } from '@consult/redis';

export interface Readiness {
  ready: boolean;
  kafka: 'up' | 'down';
  redis: 'up' | 'down';
  /** Messages not yet processed by the single writers and the projector (null when unknown). */
  lag: { writer: number | null; projector: number | null };
  checkedAt: string;
}

/**
 * Ready means: Kafka and Redis answer, and the writer and the projector are caught up to within `maxLag`
 * messages. Checked at most once a second whatever the polling rate.
 */
export class ReadinessProbe {
  private last: Readiness | undefined;
  private inFlight: Promise<Readiness> | undefined;
  private readonly offsets: RedisOffsetStore;

  constructor(
    private readonly kafka: Kafka,
    private readonly redis: Redis,
    private readonly topics: TopicNames,
    keyPrefix: string,
    private readonly maxLag = 1_000,
  ) {
    this.offsets = new RedisOffsetStore(new KeySpace(keyPrefix), 'projector');
  }

  async check(): Promise<Readiness> {
    if (this.last && Date.now() - Date.parse(this.last.checkedAt) < 1_000) return this.last;
    this.inFlight ??= this.measure().finally(() => (this.inFlight = undefined));
    this.last = await this.inFlight;
    return this.last;
  }

  private async measure(): Promise<Readiness> {
    const redisUp = await this.redis.ping().then(
      () => true,
      () => false,
    );
    const admin = this.kafka.admin();
    let kafkaUp = false;
    let writer: number | null = null;
    let projector: number | null = null;
    const { topics } = this;
    try {
      await admin.connect();
      kafkaUp = true;
      const ends = async (topic: string) => admin.fetchTopicOffsets(topic);
      // Both single writers: the consultation writer and the CSO writer, each against its command topic.
      writer = 0;
      for (const [groupId, topic] of [
        [writerGroupId(topics), topics.consultationCommands],
        [csoWriterGroupId(topics), topics.csoCommands],
      ] as const) {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        for (const end of await ends(topic)) {
          const at = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
          writer += Math.max(0, Number(end.high) - Math.max(0, Number(at)));
        }
      }
      if (redisUp) {
        const next = await this.offsets.nextOffsets(this.redis);
        projector = 0;
        for (const topic of [topics.consultationEvents, topics.consultationOutcomes, topics.csoEvents, topics.csoOutcomes]) {
          for (const end of await ends(topic)) {
            const at = next.get(RedisOffsetStore.field(topic, end.partition)) ?? 0n;
            // Transaction markers take offsets too: one marker past the last applied record is caught up.
            projector += Math.max(0, Number(end.high) - Number(at) - 1);
          }
        }
      }
    } catch {
      // Kafka down (kafka: down) or topics missing (lag unknown): either way not ready.
      if (projector === null) writer = null;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    const ready = kafkaUp && redisUp && writer !== null && writer <= this.maxLag && projector !== null && projector <= this.maxLag;
    return { ready, kafka: kafkaUp ? 'up' : 'down', redis: redisUp ? 'up' : 'down', lag: { writer, projector }, checkedAt: new Date().toISOString() };
  }

}
