import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consultationEventCodec, deterministicUuid, type ConsultationEvent, type ConsultationEventOf } from '@consult/contracts';
import { DeadlineService, jobCommandName, jobMember, type Job } from '@consult/deadlines';
import { readToEnd } from '@consult/kafka';
import { consultationInput, futureIso, Stack } from '../support/stack.js';

/** Deadlines a few seconds ahead, reminders a few seconds before them: nothing here waits for real days. */
describe('the deadline service reminds and closes on time', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await new Stack({ closeGraceMs: 1_000 }).start();
  });
  afterAll(async () => stack?.stop());

  async function open(deadlineInMs: number, reminderOffsetsSeconds: number[]) {
    const created = await stack
      .client('secretariat')
      .createConsultation(consultationInput({ deadline: futureIso(deadlineInMs), reminderOffsetsSeconds }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body;
  }

  async function history(id: string): Promise<ConsultationEvent[]> {
    const events: ConsultationEvent[] = [];
    await readToEnd(stack.kafka, {
      topic: stack.topics.consultationEvents,
      logger: stack.logger,
      onBatch: (_partition, messages) => {
        for (const m of messages) {
          const event = consultationEventCodec.decode(m.value);
          if (event.key === id) events.push(event);
        }
      },
    });
    return events;
  }

  const ofType = <T extends ConsultationEvent['type']>(events: ConsultationEvent[], type: T) =>
    events.filter((e): e is ConsultationEventOf<T> => e.type === type);

  async function untilClosed(id: string, timeoutMs = 30_000): Promise<void> {
    await stack.until(
      async () => (await stack.client('secretariat').getConsultation(id)).body.status === 'closed',
      timeoutMs,
      `consultation ${id} closed`,
    );
  }

  it('reminds only pending addressees at each offset, then closes at the deadline and refuses later comments', async () => {
    const c = await open(6_000, [4, 2]);
    const posted = await stack.client('KHM').postComment(c.id, { body: 'Cambodia concurs.', language: 'en' }, 'khm');
    expect(posted.status).toBe(201);
    await untilClosed(c.id);
    const closedSeenAt = Date.now();

    const events = await history(c.id);
    const reminders = ofType(events, 'consultation.reminder-issued');
    expect(reminders.map((r) => r.data.offsetSeconds)).toEqual([4, 2]);
    for (const r of reminders) {
      expect(r.data.pending).toEqual(['THA', 'KAZ']);
      expect(Date.parse(r.data.deadline)).toBe(Date.parse(c.deadline));
      expect(r.data.dueAt).toBe(new Date(Date.parse(c.deadline) - r.data.offsetSeconds * 1000).toISOString());
      // Never early, and not much late.
      expect(Date.parse(r.occurredAt)).toBeGreaterThanOrEqual(Date.parse(r.data.dueAt));
      expect(Date.parse(r.occurredAt) - Date.parse(r.data.dueAt)).toBeLessThan(2_000);
      expect(r.actor).toEqual({ kind: 'system', id: 'deadline-service' });
    }
    const closed = ofType(events, 'consultation.closed');
    expect(closed).toHaveLength(1);
    expect(closed[0]!.data).toMatchObject({ responded: ['KHM'], pending: ['THA', 'KAZ'] });
    expect(Date.parse(closed[0]!.data.closedAt)).toBeGreaterThanOrEqual(Date.parse(c.deadline));
    expect(closedSeenAt - Date.parse(c.deadline)).toBeLessThan(5_000);

    const view = await stack.client('secretariat').getConsultation(c.id);
    expect(view.body.status).toBe('closed');
    const late = await stack.client('THA').postComment(c.id, { body: 'Too late?', language: 'en' }, 'tha');
    expect(late.status).toBe(409);
    expect(late.problem?.code).toBe('consultation-closed');
  });

  it('moves reminders and closing with an extension: nothing fires for the old deadline', async () => {
    const c = await open(6_000, [4, 2]);
    const later = futureIso(10_000);
    const extended = await stack.client('secretariat').extendDeadline(c.id, { deadline: later, reason: 'Requested by KAZ' });
    expect(extended.status).toBe(201);
    await untilClosed(c.id);

    const events = await history(c.id);
    const reminders = ofType(events, 'consultation.reminder-issued');
    expect(reminders.map((r) => [r.data.offsetSeconds, Date.parse(r.data.deadline)])).toEqual([
      [4, Date.parse(later)],
      [2, Date.parse(later)],
    ]);
    const closed = ofType(events, 'consultation.closed');
    expect(closed).toHaveLength(1);
    expect(Date.parse(closed[0]!.data.deadline)).toBe(Date.parse(later));
    expect(Date.parse(closed[0]!.data.closedAt)).toBeGreaterThanOrEqual(Date.parse(later));
    expect(Date.parse(closed[0]!.occurredAt)).toBeGreaterThanOrEqual(Date.parse(later));
  });

  it('catches up at once after being down over a deadline, without duplicates', async () => {
    const c = await open(6_000, [4, 2]);
    // The first reminder goes out while the service runs...
    await stack.until(async () => (await stack.readModel.versionOf(stack.redis, c.id)) >= 2, 15_000, 'first reminder');
    await stack.stopDeadlines();
    // ...then it is down over the second reminder and the deadline.
    const downUntil = Date.parse(c.deadline) + 2_000;
    await new Promise((r) => setTimeout(r, Math.max(0, downUntil - Date.now())));
    expect((await stack.client('secretariat').getConsultation(c.id)).body.status).toBe('open');

    const restartedAt = Date.now();
    await stack.startDeadlines();
    await untilClosed(c.id);
    expect(Date.now() - restartedAt).toBeLessThan(5_000);

    // A crash between the broker's acknowledgement and the job's removal sends the same commands again.
    const deadline = new Date(Date.parse(c.deadline)).toISOString();
    const reminder: Job = { consultationId: c.id, kind: 'reminder', deadline, offsetSeconds: 2 };
    const close: Job = { consultationId: c.id, kind: 'close', deadline, offsetSeconds: 0 };
    await stack.redis.zadd(stack.deadlines!.keys.dueOf(c.id), 0, jobMember(reminder), 1, jobMember(close));
    stack.deadlines!.wake();
    await stack.until(
      async () => {
        const outcome = await stack.readModel.outcome(stack.redis, deterministicUuid(jobCommandName(close)));
        return outcome?.result.status === 'accepted' && outcome.result.replayed;
      },
      15_000,
      'the re-sent closing answered as a replay',
    );

    const events = await history(c.id);
    expect(ofType(events, 'consultation.reminder-issued').map((r) => r.data.offsetSeconds)).toEqual([4, 2]);
    expect(ofType(events, 'consultation.closed')).toHaveLength(1);
  });

  it('rebuilds the schedule from Kafka after its Redis keys are flushed, and the jobs still fire', async () => {
    const earlier = await open(3_000, [1]);
    await untilClosed(earlier.id);
    const c = await open(8_000, [4]);
    await Promise.all([stack.stopDeadlines(), stack.stopProjector()]);
    expect(await stack.flushRedis()).toBeGreaterThan(0);
    await Promise.all([stack.startProjector(), stack.startDeadlines()]);

    // Only the open consultation is left to do after the rebuild: its reminder and its closing.
    const deadlines = stack.deadlines!;
    await stack.until(async () => (await deadlines.scheduledCount()) === 2, 15_000, 'schedule rebuilt');
    const members = await deadlines.scheduledJobs();
    expect(members.every((m) => m.startsWith(`${c.id}|`))).toBe(true);

    await untilClosed(c.id);
    const events = await history(c.id);
    expect(ofType(events, 'consultation.reminder-issued').map((r) => r.data.offsetSeconds)).toEqual([4]);
    expect(ofType(events, 'consultation.closed')).toHaveLength(1);
    expect(ofType(await history(earlier.id), 'consultation.closed')).toHaveLength(1);
  });

  it('rebuilds the schedule when its keys are flushed under the running service, without a restart', async () => {
    const c = await open(8_000, [4]);
    const deadlines = stack.deadlines!;
    await stack.until(async () => (await deadlines.scheduledCount()) === 2, 15_000, 'scheduled');
    await stack.stopProjector();
    expect(await stack.flushRedis()).toBeGreaterThan(0);
    await stack.startProjector();
    await stack.until(async () => (await deadlines.scheduledCount()) === 2, 15_000, 'schedule rebuilt');
    await untilClosed(c.id);
    const events = await history(c.id);
    expect(ofType(events, 'consultation.reminder-issued').map((r) => r.data.offsetSeconds)).toEqual([4]);
    expect(ofType(events, 'consultation.closed')).toHaveLength(1);
  });

  it('follows the injected clock: a consultation due in 8 days is reminded 7 d, 1 d and 1 h before and closed', async () => {
    const c = await open(8 * 86_400_000, [604_800, 86_400, 3_600]);
    const deadline = Date.parse(c.deadline);
    await stack.stopDeadlines();
    let now = Date.now();
    const service = new DeadlineService({
      kafka: stack.kafka,
      redis: stack.redis,
      logger: stack.logger,
      topics: stack.topics,
      keyPrefix: stack.keyPrefix,
      clock: { now: () => new Date(now) },
    });
    try {
      await service.start();
      await service.assigned;
      await stack.until(async () => (await service.scheduledCount()) === 4, 15_000, 'scheduled');
      now = deadline - 86_400_000; // the 7-day and the 1-day reminders are due
      service.wake();
      await stack.until(async () => (await stack.readModel.versionOf(stack.redis, c.id)) === 3, 15_000, 'two reminders');
      expect((await stack.client('secretariat').getConsultation(c.id)).body.status).toBe('open');
      now = deadline + 2_000;
      service.wake();
      await untilClosed(c.id);
    } finally {
      await service.stop();
      await stack.startDeadlines();
    }
    const events = await history(c.id);
    expect(ofType(events, 'consultation.reminder-issued').map((r) => r.data.offsetSeconds)).toEqual([604_800, 86_400, 3_600]);
    const closed = ofType(events, 'consultation.closed');
    expect(closed).toHaveLength(1);
    expect(closed[0]!.data.closedAt).toBe(new Date(deadline + 2_000).toISOString());
  });

  it('runs as two instances: each due job is sent once, and the other takes over when the sending one stops', async () => {
    await stack.stopDeadlines();
    const make = () =>
      new DeadlineService({ kafka: stack.kafka, redis: stack.redis, logger: stack.logger, topics: stack.topics, keyPrefix: stack.keyPrefix, closeGraceMs: 1_000 });
    const running = new Set([make(), make()]);
    try {
      await Promise.all([...running].map((s) => s.start()));
      await Promise.all([...running].map((s) => s.assigned));
      const sent = () => [...running].reduce((sum, s) => sum + s.commandsSent, 0);
      const first = await open(4_000, [2]);
      await untilClosed(first.id);
      // One reminder and one closing, whichever instance holds the ticker lease.
      expect(sent()).toBe(2);
      const events = await history(first.id);
      expect(ofType(events, 'consultation.reminder-issued')).toHaveLength(1);

      const sender = [...running].find((s) => s.commandsSent > 0)!;
      await sender.stop();
      running.delete(sender);
      const other = [...running][0]!;
      const second = await open(4_000, [2]);
      await untilClosed(second.id);
      expect(other.commandsSent).toBe(2);
      expect(ofType(await history(second.id), 'consultation.reminder-issued')).toHaveLength(1);
    } finally {
      await Promise.all([...running].map((s) => s.stop()));
      await stack.startDeadlines();
    }
  });
});
