import { csoWriterGroupId, projectorGroupId, writerGroupId, type TopicNames } from '@consult/contracts';
import { withClusterView, type KafkaClient } from '@consult/kafka';
import { projectorOffsetLayout } from '@consult/read-models';
import { KeySpace, RedisOffsetStore, type RedisClient as Redis } from '@consult/redis';
import { ProgressWatch } from './progress-watch.js';

export interface Readiness {
  ready: boolean;
  kafka: 'up' | 'down';
  redis: 'up' | 'down';
  /** Messages not yet processed by the single writers and the projector (null when unknown). */
  lag: { writer: number | null; projector: number | null };
  /** Records set aside on the quarantine topic because a consumer could not decode them (null when unknown). */
  quarantined: number | null;
  /** Why the gateway is not ready, in words an operator can act on (empty when ready). */
  reasons: string[];
  checkedAt: string;
}

/**
 * Ready means a request sent now can succeed: Kafka and Redis answer; both single writers and the projector
 * have a live group member (a dead one holds its partitions until its session times out, and then nobody
 * does until it is back); they are caught up to within `maxLag` messages; and the API key directory is
 * complete (after a Redis flush every key is unknown until the identity topic is projected again); and none
 * of the writers has had commands waiting without deciding any for two seconds (a member killed with SIGKILL
 * looks live until its session times out). Only the writers are watched so: their lag counts commands exactly
 * (the command topics hold no transactions), while the projector's stored positions stop short of aborted
 * records and markers it had nothing to apply for. Checked at most once a second whatever the polling rate.
 */
export class ReadinessProbe {
  private last: Readiness | undefined;
  private inFlight: Promise<Readiness> | undefined;
  private readonly offsets: RedisOffsetStore;
  private readonly progress = new ProgressWatch();

  constructor(
    private readonly kafka: KafkaClient,
    private readonly redis: Redis,
    private readonly topics: TopicNames,
    private readonly keyPrefix: string,
    private readonly maxLag = 200,
  ) {
    this.offsets = new RedisOffsetStore(new KeySpace(keyPrefix), 'projector', projectorOffsetLayout(topics));
  }

  /**
   * Whether the read models are being rebuilt: some partition of a topic they are built from holds records
   * but the projector has stored no offset for it (after a Redis flush or restart, until its first batch is
   * applied again). A "not found" then means "not rebuilt yet", and the gateway answers 503, not 404.
   */
  async rebuilding(): Promise<boolean> {
    const { topics } = this;
    const now = Date.now();
    if (!this.partitionsWithData || now - this.partitionsWithData.at > 1_000) {
      const fields = await withClusterView(this.kafka, async (view) => {
        const found: { topic: string; partition: number }[] = [];
        for (const topic of [topics.consultationEvents, topics.csoEvents, topics.identityEvents])
          for (const o of await view.ends(topic)) if (Number(o.high) > 0) found.push({ topic, partition: o.partition });
        return found;
      });
      this.partitionsWithData = { at: now, fields };
    }
    const fields = this.partitionsWithData.fields;
    if (fields.length === 0) return false;
    const stored = await Promise.all(fields.map(({ topic, partition }) => this.offsets.has(this.redis, topic, partition)));
    return stored.some((has) => !has);
  }

  private partitionsWithData: { at: number; fields: { topic: string; partition: number }[] } | undefined;

  async check(): Promise<Readiness> {
    if (this.last && Date.now() - Date.parse(this.last.checkedAt) < 1_000) return this.last;
    this.inFlight ??= this.measure().finally(() => (this.inFlight = undefined));
    this.last = await this.inFlight;
    return this.last;
  }

  private async measure(): Promise<Readiness> {
    const reasons: string[] = [];
    const redisUp = await this.redis.ping().then(
      () => true,
      () => false,
    );
    if (!redisUp) reasons.push('redis does not answer');
    // Set inside the admin callback below (typed so that TypeScript does not narrow them to their initial value).
    let kafkaUp = false as boolean;
    let writer = null as number | null;
    let projector = null as number | null;
    let quarantined = null as number | null;
    const { topics } = this;
    try {
      await withClusterView(this.kafka, async (view) => {
        kafkaUp = true;
        const ends = async (topic: string) => view.ends(topic);
        const groups = [
          ['consultation writer', writerGroupId(topics)],
          ['CSO writer', csoWriterGroupId(topics)],
          ['projector', projectorGroupId(topics, this.keyPrefix)],
        ] as const;
        const described = await view.groups(groups.map(([, id]) => id));
        for (const [name, id] of groups) {
          const group = described.find((g) => g.groupId === id);
          if (!group || group.members === 0 || group.state !== 'Stable')
            reasons.push(`the ${name} has no live member (group ${group?.state ?? 'unknown'})`);
        }
        // Both single writers: the consultation writer and the CSO writer, each against its command topic.
        writer = 0;
        for (const [name, groupId, topic] of [
          ['consultation writer', writerGroupId(topics), topics.consultationCommands],
          ['CSO writer', csoWriterGroupId(topics), topics.csoCommands],
        ] as const) {
          const committed = await view.committed(groupId, topic);
          let lag = 0;
          const positions: string[] = [];
          for (const end of await ends(topic)) {
            const at = committed.get(end.partition) ?? '-1';
            lag += Math.max(0, Number(end.high) - Math.max(0, Number(at)));
            positions.push(`${end.partition}=${at}`);
          }
          writer += lag;
          const stalled = this.progress.observe(name, positions.join(','), lag, Date.now());
          if (stalled > 0) reasons.push(`the ${name} has ${lag} commands waiting and has decided none for ${(stalled / 1000).toFixed(1)} s`);
        }
        quarantined = (await ends(topics.quarantine)).reduce((sum, o) => sum + Number(o.high), 0);
        if (redisUp) {
          const next = await this.offsets.nextOffsets(this.redis);
          projector = 0;
          const lagOf = (topic: string, end: { partition: number; high: string }): number => {
            const at = next.get(RedisOffsetStore.field(topic, end.partition)) ?? 0n;
            // Transaction markers take offsets too: one marker past the last applied record is caught up.
            return Math.max(0, Number(end.high) - Number(at) - 1);
          };
          for (const topic of [topics.consultationEvents, topics.consultationOutcomes, topics.csoEvents, topics.csoOutcomes])
            for (const end of await ends(topic)) projector += lagOf(topic, end);
          for (const end of await ends(topics.identityEvents)) {
            const stored = next.has(RedisOffsetStore.field(topics.identityEvents, end.partition));
            if (Number(end.high) > 0 && (!stored || lagOf(topics.identityEvents, end) > 0))
              reasons.push('the API key directory is being rebuilt');
          }
        }
      });
    } catch (error) {
      // Kafka down (kafka: down) or topics missing (lag unknown): either way not ready.
      reasons.push(kafkaUp ? `kafka: ${error instanceof Error ? error.message : String(error)}` : 'kafka does not answer');
      if (projector === null) writer = null;
    }
    if (writer !== null && writer > this.maxLag) reasons.push(`the writers lag ${writer} commands`);
    if (projector !== null && projector > this.maxLag) reasons.push(`the projector lags ${projector} records`);
    if (writer === null || projector === null) reasons.push('lag unknown');
    const ready = kafkaUp && redisUp && reasons.length === 0;
    return {
      ready,
      kafka: kafkaUp ? 'up' : 'down',
      redis: redisUp ? 'up' : 'down',
      lag: { writer, projector },
      quarantined,
      reasons,
      checkedAt: new Date().toISOString(),
    };
  }
}
