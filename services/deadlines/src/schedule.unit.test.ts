import { describe, expect, it } from 'vitest';
import type { ConsultationEvent } from '@consult/contracts';
import {
  applyToSchedule,
  jobCommandName,
  jobMember,
  jobsFor,
  parseJobMember,
  ScheduleChanges,
  type ScheduledConsultation,
} from './schedule.js';

const ID = '11111111-1111-4111-8111-111111111111';
const OPENED = '2026-03-01T00:00:00.000Z';
const DEADLINE = '2026-03-20T12:00:00.000Z';
const at = (iso: string, deltaMs = 0): number => Date.parse(iso) + deltaMs;

function event(type: string, data: Record<string, unknown>): ConsultationEvent {
  return { type, key: ID, data } as unknown as ConsultationEvent;
}

const opened = (deadline = DEADLINE, offsets = [604_800, 86_400, 3_600], openedAt = OPENED) =>
  event('consultation.opened', { deadline, reminderOffsetsSeconds: offsets, openedAt });

function run(events: ConsultationEvent[], records = new Map<string, ScheduledConsultation | null>()) {
  const changes = new ScheduleChanges();
  for (const e of events) applyToSchedule(records, e, changes, 2_000);
  const added = [...changes.jobs].filter(([, v]) => v !== null).map(([m, v]) => [m, v]);
  const removed = [...changes.jobs].filter(([, v]) => v === null).map(([m]) => m);
  return { changes, records, added, removed };
}

describe('jobsFor', () => {
  it('schedules a reminder at deadline − offset for each offset and the closing at deadline + grace', () => {
    const jobs = jobsFor({ id: ID, deadline: DEADLINE, openedAt: OPENED, reminderOffsetsSeconds: [604_800, 86_400, 3_600] }, 2_000);
    expect(jobs.map((j) => [j.kind, j.offsetSeconds, j.dueAt])).toEqual([
      ['reminder', 604_800, at(DEADLINE, -604_800_000)],
      ['reminder', 86_400, at(DEADLINE, -86_400_000)],
      ['reminder', 3_600, at(DEADLINE, -3_600_000)],
      ['close', 0, at(DEADLINE, 2_000)],
    ]);
  });

  it('skips reminders that were due before the consultation was opened, keeps the rest even if past', () => {
    const openedAt = '2026-03-20T00:00:00.000Z'; // 12 h before the deadline
    const jobs = jobsFor({ id: ID, deadline: DEADLINE, openedAt, reminderOffsetsSeconds: [604_800, 86_400, 3_600] }, 0);
    expect(jobs.map((j) => j.offsetSeconds)).toEqual([3_600, 0]);
  });

  it('normalises deadlines to UTC, so the same deadline is the same job', () => {
    const jobs = jobsFor({ id: ID, deadline: '2026-03-20T19:00:00+07:00', openedAt: OPENED, reminderOffsetsSeconds: [3_600] }, 0);
    expect(jobs[0]!.deadline).toBe(DEADLINE);
    expect(jobMember(jobs[0]!)).toBe(jobMember({ ...jobs[0]!, deadline: DEADLINE }));
  });
});

describe('job members and command names', () => {
  it('round-trip and identify a job by consultation, kind, deadline and offset', () => {
    const job = { consultationId: ID, kind: 'reminder' as const, deadline: DEADLINE, offsetSeconds: 3_600 };
    expect(parseJobMember(jobMember(job))).toEqual(job);
    expect(jobCommandName(job)).toBe(jobCommandName({ ...job }));
    expect(jobCommandName(job)).not.toBe(jobCommandName({ ...job, offsetSeconds: 86_400 }));
    expect(jobCommandName(job)).not.toBe(jobCommandName({ ...job, deadline: '2026-03-21T12:00:00.000Z' }));
    expect(() => parseJobMember('garbage')).toThrow();
  });
});

describe('applyToSchedule', () => {
  it('adds all jobs of an opened consultation and remembers it', () => {
    const { added, records } = run([opened()]);
    expect(added).toHaveLength(4);
    expect(records.get(ID)).toMatchObject({ deadline: DEADLINE, reminderOffsetsSeconds: [604_800, 86_400, 3_600] });
  });

  it('moves every job on an extension: the old deadline keeps none', () => {
    const later = '2026-03-27T12:00:00.000Z';
    const { records } = run([opened()]);
    const { added, removed } = run(
      [event('consultation.deadline-extended', { previousDeadline: DEADLINE, deadline: later, reason: 'x', receivedAt: OPENED })],
      records,
    );
    expect(removed.map((m) => parseJobMember(m).deadline)).toEqual([DEADLINE, DEADLINE, DEADLINE, DEADLINE]);
    expect(added.map(([m]) => parseJobMember(m as string).deadline)).toEqual([later, later, later, later]);
    expect(records.get(ID)?.deadline).toBe(later);
  });

  it('folds a batch: opened then extended leaves only the new deadline’s jobs added', () => {
    const later = '2026-03-27T12:00:00.000Z';
    const { added, removed } = run([
      opened(),
      event('consultation.deadline-extended', { previousDeadline: DEADLINE, deadline: later, reason: 'x', receivedAt: OPENED }),
    ]);
    expect(added.every(([m]) => parseJobMember(m as string).deadline === later)).toBe(true);
    expect(added).toHaveLength(4);
    expect(removed).toHaveLength(4);
  });

  it('drops a reminder once it was issued, and everything once closed', () => {
    const { records } = run([opened()]);
    const issued = run([event('consultation.reminder-issued', { offsetSeconds: 86_400, deadline: DEADLINE, dueAt: OPENED, pending: [] })], records);
    expect(issued.removed.map((m) => parseJobMember(m).offsetSeconds)).toEqual([86_400]);
    const closed = run([event('consultation.closed', { closedAt: DEADLINE, deadline: DEADLINE, responded: [], pending: [] })], records);
    expect(closed.removed).toHaveLength(4);
    expect(closed.changes.consultations.get(ID)).toBeNull();
    expect(records.get(ID)).toBeNull();
  });

  it('a replayed history (after a flush) ends with only what is still to do', () => {
    const { added } = run([
      opened(),
      event('consultation.reminder-issued', { offsetSeconds: 604_800, deadline: DEADLINE, dueAt: OPENED, pending: [] }),
      event('consultation.comment-submitted', {}),
    ]);
    expect(added.map(([m]) => parseJobMember(m as string).offsetSeconds)).toEqual([86_400, 3_600, 0]);
  });
});
