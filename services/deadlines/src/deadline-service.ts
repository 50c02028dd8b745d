import {
  consultationCommandCodec,
  consultationEventCodec,
  deterministicUuid,
  type ConsultationCommand,
  type ConsultationEvent,
  type TopicNames,
} from '@consult/contracts';
import { systemClock, type Clock, type Logger } from '@consult/config';
import { BatchingProducer, type KafkaClient, type ProducedRecord } from '@consult/kafka';
import { CONSULTATION_TAGS, consultationTagOf, deadlinesOffsetLayout, mergeRanges, withScores, type Ranked } from '@consult/read-models';
import { KeySpace, RedisOffsetStore, type ChainableCommander, type RedisClient } from '@consult/redis';
import { Quarantine, RedisProjection, type Decoded } from '@consult/streams';
import {
  applyToSchedule,
  jobCommandName,
  parseJobMember,
  ScheduleChanges,
  type Job,
  type ScheduledConsultation,
} from './schedule.js';
import { TickerLease } from './ticker-lease.js';

export const DEADLINE_SERVICE_ACTOR = { kind: 'system', id: 'deadline-service' } as const;

/** The deadline service's group belongs to one Redis key space, like the projector's. */
export function deadlinesGroupId(names: TopicNames, keyPrefix: string): string {
  return `${names.consultationEvents}.deadlines.${keyPrefix}`;
}

/**
 * The Redis layout of the schedule: derived state, rebuilt from `consultation.events` after a flush. Kept per
 * partition of that topic, under its hash tag (`{c<n>}`, as the read models), so a batch, its schedule changes
 * and its offset share a slot; the ticker reads every partition's schedule.
 */
export class ScheduleKeys {
  /** String: the id of the instance whose ticker sends due jobs (TickerLease). */
  readonly ticker: string;
  constructor(readonly keys: KeySpace) {
    this.ticker = keys.key('deadlines', 'ticker');
  }
  /** Sorted set of one tag: job member (see `jobMember`) scored by its due time in epoch ms. */
  due(tag: string): string {
    return this.keys.tagged(tag, 'deadlines', 'due');
  }
  /** The sorted set holding a consultation's jobs. */
  dueOf(consultationId: string): string {
    return this.due(consultationTagOf(consultationId));
  }
  /** Hash of one tag: consultation id → JSON `ScheduledConsultation`, for open consultations only. */
  consultations(tag: string): string {
    return this.keys.tagged(tag, 'deadlines', 'consultations');
  }
}

export interface DeadlineServiceOptions {
  kafka: KafkaClient;
  redis: RedisClient;
  logger: Logger;
  topics: TopicNames;
  keyPrefix: string;
  clock?: Clock;
  /** Closing waits this long past the deadline for comments stamped before it and still in flight. */
  closeGraceMs?: number;
  /** The ticker looks at the schedule at least this often (it also wakes when jobs are added). */
  maxTickMs?: number;
  /** How often the consumer compares its stored offsets with its position (a flushed schedule is rebuilt). */
  resyncIntervalMs?: number;
  /** Most commands sent in one produce request. */
  maxSendBatch?: number;
  groupId?: string;
  /** Called after the broker acknowledged a batch of commands: when each job was due, and when it was sent. */
  onSent?: (sent: { job: Job; dueAt: number; sentAt: number; ackedAt: number }[]) => void;
}

/**
 * Reminds and closes on time. The schedule (a sorted set of jobs by due time) is derived from
 * `consultation.events` by a consumer that stores its offsets in the same MULTI as the schedule changes, so
 * schedule and progress never disagree and a flushed key space is rebuilt from the beginning of the topic.
 *
 * A ticker sends due jobs as commands to the single writer and removes them only after the broker
 * acknowledged. Sending is at-least-once: after a crash between the acknowledgement and the removal, or a
 * rebuild that re-adds a job the writer already acted on, the same command (same deterministic id) goes out
 * again. That is enough, because the writer issues each reminder once per consultation, deadline and offset
 * and closes once, answering duplicates as replays, and refuses stale (superseded deadline) or early ones.
 *
 * Several instances may run on one key space: each keeps the schedule of the partitions its group gives it,
 * and the one holding the ticker lease sends what is due (another takes over within the lease's 5 s when it
 * stops or dies).
 */
export class DeadlineService {
  private readonly consumer: RedisProjection<ConsultationEvent>;
  private readonly producer: BatchingProducer;
  private readonly layout: ScheduleKeys;
  private readonly clock: Clock;
  private readonly closeGraceMs: number;
  private readonly maxTickMs: number;
  private readonly maxSendBatch: number;
  private stopped = false;
  private woken = false;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> = Promise.resolve();
  private sent = 0;
  private readonly lease: TickerLease;

  constructor(private readonly options: DeadlineServiceOptions) {
    const keys = new KeySpace(options.keyPrefix);
    this.layout = new ScheduleKeys(keys);
    this.lease = new TickerLease(options.redis, this.layout.ticker);
    this.clock = options.clock ?? systemClock;
    this.closeGraceMs = options.closeGraceMs ?? 2_000;
    this.maxTickMs = options.maxTickMs ?? 1_000;
    this.maxSendBatch = options.maxSendBatch ?? 2_000;
    this.producer = new BatchingProducer(options.kafka, options.logger);
    const groupId = options.groupId ?? deadlinesGroupId(options.topics, options.keyPrefix);
    this.consumer = new RedisProjection<ConsultationEvent>({
      kafka: options.kafka,
      redis: options.redis,
      logger: options.logger,
      groupId,
      topics: [options.topics.consultationEvents],
      offsets: new RedisOffsetStore(keys, 'deadlines', deadlinesOffsetLayout(options.topics)),
      quarantine: new Quarantine(this.producer, options.topics.quarantine, groupId, options.logger),
      decode: (_topic, message) => consultationEventCodec.decode(message.value),
      project: (commands, topic, partition, records) => this.project(commands, this.consumerTag(topic, partition), records),
      onApplied: () => this.wake(),
      ...(options.resyncIntervalMs !== undefined ? { resyncIntervalMs: options.resyncIntervalMs } : {}),
    });
  }

  /** Resolves once the consumer owns partitions and is positioned on the stored offsets. */
  get assigned(): Promise<void> {
    return this.consumer.assigned;
  }

  /** Commands sent (and acknowledged) since start. */
  get commandsSent(): number {
    return this.sent;
  }

  get keys(): ScheduleKeys {
    return this.layout;
  }

  async start(): Promise<void> {
    await this.producer.connect();
    await this.consumer.start();
    // Jobs already due (the service was down over a deadline) go out at once.
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
    await this.lease.release().catch(() => undefined);
    await this.consumer.stop();
    await this.producer.close();
  }

  /** Makes the ticker look at the schedule now (new jobs, or a test moved the clock). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  // ---- the schedule, from events ----

  /** The hash tag of a partition's schedule (that of the read models' keys for the same partition). */
  private consumerTag(topic: string, partition: number): string {
    return deadlinesOffsetLayout(this.options.topics).tagOf(topic, partition);
  }

  /** Jobs scheduled now, over every partition (tests and benchmarks watch the schedule). */
  async scheduledJobs(): Promise<string[]> {
    const parts = await Promise.all(CONSULTATION_TAGS.map(async (tag) => withScores(await this.options.redis.zrange(this.layout.due(tag), 0, -1, 'WITHSCORES'), tag)));
    return mergeRanges(parts, 'asc', 0, Number.MAX_SAFE_INTEGER).map((r) => r.member);
  }

  async scheduledCount(): Promise<number> {
    const cards = await Promise.all(CONSULTATION_TAGS.map((tag) => this.options.redis.zcard(this.layout.due(tag))));
    return cards.reduce((a, b) => a + b, 0);
  }

  /**
   * Schedule changes of a batch of events of one partition, under its tag; reads only records this consumer
   * alone writes (its partitions').
   */
  private async project(commands: ChainableCommander, tag: string, records: Decoded<ConsultationEvent>[]): Promise<void> {
    const events = records.map((r) => r.value);
    const ids = [...new Set(events.map((e) => e.key))];
    const stored = await this.options.redis.hmget(this.layout.consultations(tag), ...ids);
    const known = new Map<string, ScheduledConsultation | null>();
    ids.forEach((id, i) => known.set(id, stored[i] ? (JSON.parse(stored[i]) as ScheduledConsultation) : null));
    const changes = new ScheduleChanges();
    for (const event of events) applyToSchedule(known, event, changes, this.closeGraceMs);
    for (const [member, dueAt] of changes.jobs) {
      if (dueAt === null) commands.zrem(this.layout.due(tag), member);
      else commands.zadd(this.layout.due(tag), dueAt, member);
    }
    for (const [id, record] of changes.consultations) {
      if (record === null) commands.hdel(this.layout.consultations(tag), id);
      else commands.hset(this.layout.consultations(tag), id, JSON.stringify(record));
    }
  }

  // ---- the ticker ----

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.woken = false;
      try {
        if (!(await this.lease.hold())) {
          await this.sleep(this.maxTickMs);
          continue;
        }
        if ((await this.sendDue()) > 0) continue;
        await this.sleep(await this.untilNextDue());
      } catch (error) {
        this.options.logger.error({ err: error }, 'sending due jobs failed; retrying');
        await this.sleep(this.maxTickMs);
      }
    }
  }

  /** Sends the jobs due now, oldest first; returns how many. */
  async sendDue(): Promise<number> {
    const { redis, logger, topics } = this.options;
    const now = this.clock.now();
    // Every partition's due jobs, oldest first over all of them, at most maxSendBatch.
    const parts = await Promise.all(
      CONSULTATION_TAGS.map(async (tag) =>
        withScores(await redis.zrangebyscore(this.layout.due(tag), '-inf', now.getTime(), 'WITHSCORES', 'LIMIT', 0, this.maxSendBatch), tag),
      ),
    );
    const due: Ranked[] = mergeRanges(parts, 'asc', 0, this.maxSendBatch);
    if (due.length === 0) return 0;
    const messages: ProducedRecord[] = [];
    const jobs: { job: Job; dueAt: number }[] = [];
    const malformed: string[] = [];
    const sentByTag = new Map<string, string[]>();
    for (const { member, score, tag } of due) {
      const list = sentByTag.get(tag);
      if (list) list.push(member);
      else sentByTag.set(tag, [member]);
      try {
        const job = parseJobMember(member);
        messages.push(this.commandMessage(job, now));
        jobs.push({ job, dueAt: score });
      } catch (error) {
        logger.error({ err: error, member }, 'dropping a malformed job');
        malformed.push(member);
      }
    }
    if (messages.length > 0) await this.producer.send(topics.consultationCommands, messages);
    // Only now that the broker has the commands: a crash before this re-sends them, which the writer absorbs.
    await Promise.all([...sentByTag].map(([tag, members]) => redis.zrem(this.layout.due(tag), ...members)));
    this.sent += messages.length;
    if (this.options.onSent) {
      const ackedAt = Date.now();
      this.options.onSent(jobs.map((j) => ({ ...j, sentAt: now.getTime(), ackedAt })));
    }
    logger.debug({ sent: messages.length, malformed: malformed.length }, 'due jobs sent');
    return due.length;
  }

  private async untilNextDue(): Promise<number> {
    const firsts = await Promise.all(CONSULTATION_TAGS.map((tag) => this.options.redis.zrange(this.layout.due(tag), 0, 0, 'WITHSCORES')));
    const scores = firsts.filter((next) => next.length >= 2).map((next) => Number(next[1]));
    if (scores.length === 0) return this.maxTickMs;
    return Math.max(0, Math.min(this.maxTickMs, Math.min(...scores) - this.clock.now().getTime()));
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }

  private commandMessage(job: Job, now: Date): ProducedRecord {
    const id = deterministicUuid(jobCommandName(job));
    const common = {
      id,
      key: job.consultationId,
      receivedAt: now.toISOString(),
      correlationId: id,
      actor: { ...DEADLINE_SERVICE_ACTOR },
      version: 1 as const,
    };
    const command: ConsultationCommand =
      job.kind === 'reminder'
        ? { ...common, type: 'consultation.issue-reminder', data: { offsetSeconds: job.offsetSeconds, deadline: job.deadline } }
        : { ...common, type: 'consultation.close', data: {} };
    return { key: command.key, value: consultationCommandCodec.encode(command), headers: { 'command-type': command.type } };
  }
}
