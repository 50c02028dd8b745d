import type { ConsultationEvent } from '@consult/contracts';

/**
 * Pure scheduling: which jobs a consultation needs, and how each consultation event changes them. No IO and
 * no clock: the service feeds events in and writes the resulting changes to Redis in one MULTI.
 */

/** What the schedule remembers of an open consultation (the extension event does not repeat the offsets). */
export interface ScheduledConsultation {
  id: string;
  deadline: string;
  openedAt: string;
  reminderOffsetsSeconds: number[];
}

export type JobKind = 'reminder' | 'close';

export interface Job {
  consultationId: string;
  kind: JobKind;
  /** The deadline the job was scheduled for, normalised to UTC. */
  deadline: string;
  /** Seconds before the deadline (reminders); 0 for closing. */
  offsetSeconds: number;
}

export interface ScheduledJob extends Job {
  /** When the job is due, epoch ms. */
  dueAt: number;
}

const utc = (iso: string): string => new Date(Date.parse(iso)).toISOString();

/** The sorted-set member of a job: everything needed to send it, and identical for the same job. */
export function jobMember(job: Job): string {
  return `${job.consultationId}|${job.kind}|${utc(job.deadline)}|${job.offsetSeconds}`;
}

export function parseJobMember(member: string): Job {
  const [consultationId, kind, deadline, offset] = member.split('|');
  if (!consultationId || (kind !== 'reminder' && kind !== 'close') || !deadline || offset === undefined)
    throw new Error(`not a job: ${member}`);
  return { consultationId, kind, deadline, offsetSeconds: Number(offset) };
}

/** The name a job's command id is derived from: a re-send after a crash is recognisably the same command. */
export function jobCommandName(job: Job): string {
  return `deadline-service:${job.consultationId}:${job.kind}:${utc(job.deadline)}:${job.offsetSeconds}`;
}

/**
 * The jobs of a consultation for its current deadline: one reminder per offset at deadline − offset and the
 * closing at deadline + grace. Reminders already due are kept (the writer decides), except those that were
 * due before the consultation was opened: nobody could have been reminded then.
 */
export function jobsFor(c: ScheduledConsultation, closeGraceMs: number): ScheduledJob[] {
  const deadline = Date.parse(c.deadline);
  const openedAt = Date.parse(c.openedAt);
  const jobs: ScheduledJob[] = [];
  for (const offsetSeconds of c.reminderOffsetsSeconds) {
    const dueAt = deadline - offsetSeconds * 1000;
    if (dueAt < openedAt) continue;
    jobs.push({ consultationId: c.id, kind: 'reminder', deadline: utc(c.deadline), offsetSeconds, dueAt });
  }
  jobs.push({ consultationId: c.id, kind: 'close', deadline: utc(c.deadline), offsetSeconds: 0, dueAt: deadline + closeGraceMs });
  return jobs;
}

/** The net effect of a run of events on the schedule; later changes to a member or record win. */
export class ScheduleChanges {
  /** member → due time (add) or null (remove). */
  readonly jobs = new Map<string, number | null>();
  /** consultation id → record (set) or null (delete). */
  readonly consultations = new Map<string, ScheduledConsultation | null>();

  add(job: ScheduledJob): void {
    this.jobs.set(jobMember(job), job.dueAt);
  }
  remove(job: Job): void {
    this.jobs.set(jobMember(job), null);
  }
  get addedJobs(): number {
    let n = 0;
    for (const v of this.jobs.values()) if (v !== null) n++;
    return n;
  }
}

/**
 * Applies one event to the schedule. `records` holds the current record of every consultation the events
 * touch (loaded before the batch) and is updated in place, so a batch folds in order.
 */
export function applyToSchedule(
  records: Map<string, ScheduledConsultation | null>,
  event: ConsultationEvent,
  changes: ScheduleChanges,
  closeGraceMs: number,
): void {
  const current = records.get(event.key) ?? null;
  const set = (next: ScheduledConsultation | null): void => {
    records.set(event.key, next);
    changes.consultations.set(event.key, next);
  };
  switch (event.type) {
    case 'consultation.opened': {
      if (current) return; // the writer opens a consultation once; a replayed history changes nothing
      const d = event.data;
      const record: ScheduledConsultation = {
        id: event.key,
        deadline: utc(d.deadline),
        openedAt: d.openedAt,
        reminderOffsetsSeconds: [...d.reminderOffsetsSeconds],
      };
      set(record);
      for (const job of jobsFor(record, closeGraceMs)) changes.add(job);
      return;
    }
    case 'consultation.deadline-extended': {
      if (!current) return;
      for (const job of jobsFor(current, closeGraceMs)) changes.remove(job);
      const record = { ...current, deadline: utc(event.data.deadline) };
      set(record);
      for (const job of jobsFor(record, closeGraceMs)) changes.add(job);
      return;
    }
    case 'consultation.reminder-issued':
      changes.remove({
        consultationId: event.key,
        kind: 'reminder',
        deadline: event.data.deadline,
        offsetSeconds: event.data.offsetSeconds,
      });
      return;
    case 'consultation.closed':
      if (current) for (const job of jobsFor(current, closeGraceMs)) changes.remove(job);
      set(null);
      return;
    default:
      return;
  }
}
