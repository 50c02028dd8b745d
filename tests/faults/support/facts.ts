import type { Logger } from '@consult/config';
import { consultationEventCodec, type TopicNames } from '@consult/contracts';
import { readToEnd, type KafkaClient, type ConsumedRecord } from '@consult/kafka';

/**
 * What Kafka, the system of record, says happened: read straight from the topics (never through the services
 * under test), tolerating records that do not decode (the suite itself produces some).
 */
export interface KafkaFacts {
  /** comment-submitted events per `consultation|memberState|idempotencyKey`. */
  comments: Map<string, number>;
  /** reminder-issued events per `consultation|deadline|offsetSeconds`. */
  reminders: Map<string, number>;
  /** closed events per consultation. */
  closings: Map<string, number>;
  /** Each consultation's opening: its deadline (the latest, after extensions) and reminder offsets. */
  consultations: Map<string, { deadline: number; reminderOffsetsSeconds: number[]; openedAt: number }>;
  /** Events a webhook subscriber may expect: id, type, consultation, and the commenting member state. */
  notifiable: { id: string; type: string; key: string; memberState?: string; pending?: string[] }[];
  /** Comment commands received at or before their consultation's deadline and refused as closed. */
  onTimeRefused: { commandId: string; key: string; receivedAt: string; deadline: string }[];
  /** Outcomes by command id (status and code), of consultation and CSO commands. */
  outcomes: Map<string, { status: string; code?: string }>;
  records: number;
}

export const commentKey = (consultationId: string, memberState: string, idempotencyKey: string): string =>
  `${consultationId}|${memberState}|${idempotencyKey}`;

function parse(message: ConsumedRecord): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(message.value?.toString('utf8') ?? '') as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function readAll(kafka: KafkaClient, logger: Logger, topic: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  await readToEnd(kafka, {
    topic,
    logger,
    groupIdPrefix: `${topic}.fault-suite`,
    timeoutMs: 120_000,
    onBatch: (_partition, messages) => {
      for (const m of messages) {
        const parsed = parse(m);
        if (parsed) out.push(parsed);
      }
    },
  });
  return out;
}

const NOTIFIABLE = new Set(['consultation.opened', 'consultation.reminder-issued', 'consultation.closed', 'consultation.comment-submitted']);

function decodes(event: Record<string, unknown>): boolean {
  try {
    consultationEventCodec.decode(JSON.stringify(event));
    return true;
  } catch {
    return false;
  }
}

export async function readFacts(kafka: KafkaClient, logger: Logger, topics: TopicNames): Promise<KafkaFacts> {
  const [events, commands, consultationOutcomes, csoOutcomes] = await Promise.all([
    readAll(kafka, logger, topics.consultationEvents),
    readAll(kafka, logger, topics.consultationCommands),
    readAll(kafka, logger, topics.consultationOutcomes),
    // CSO commands' outcomes too: a poison command on cso.commands must be answered like one on consultation.commands.
    readAll(kafka, logger, topics.csoOutcomes),
  ]);
  const outcomes = [...consultationOutcomes, ...csoOutcomes];
  const facts: KafkaFacts = {
    comments: new Map(),
    reminders: new Map(),
    closings: new Map(),
    consultations: new Map(),
    notifiable: [],
    onTimeRefused: [],
    outcomes: new Map(),
    records: events.length + commands.length + outcomes.length,
  };
  const bump = (map: Map<string, number>, key: string): void => void map.set(key, (map.get(key) ?? 0) + 1);
  for (const event of events) {
    // Only what decodes is an event: the poison phase puts records of known types (version 99) on the topic,
    // which every consumer sets aside, so they are owed no webhook and open nothing.
    if (!decodes(event)) continue;
    const data = (event.data ?? {}) as Record<string, unknown>;
    const key = String(event.key);
    switch (event.type) {
      case 'consultation.opened':
        facts.consultations.set(key, {
          deadline: Date.parse(String(data.deadline)),
          reminderOffsetsSeconds: (data.reminderOffsetsSeconds as number[] | undefined) ?? [],
          openedAt: Date.parse(String(data.openedAt)),
        });
        break;
      case 'consultation.deadline-extended': {
        const c = facts.consultations.get(key);
        if (c) c.deadline = Date.parse(String(data.deadline));
        break;
      }
      case 'consultation.comment-submitted':
        bump(facts.comments, commentKey(key, String(data.memberState), String(data.idempotencyKey)));
        break;
      case 'consultation.reminder-issued':
        bump(facts.reminders, `${key}|${Date.parse(String(data.deadline))}|${String(data.offsetSeconds)}`);
        break;
      case 'consultation.closed':
        bump(facts.closings, key);
        break;
    }
    if (typeof event.type === 'string' && NOTIFIABLE.has(event.type) && typeof event.id === 'string')
      facts.notifiable.push({
        id: event.id,
        type: event.type,
        key,
        ...(typeof data.memberState === 'string' ? { memberState: data.memberState } : {}),
        ...(Array.isArray(data.pending) ? { pending: data.pending.map(String) } : {}),
      });
  }
  for (const outcome of outcomes) {
    const result = (outcome.result ?? {}) as Record<string, unknown>;
    if (typeof outcome.commandId === 'string')
      facts.outcomes.set(outcome.commandId, { status: String(result.status), ...(typeof result.code === 'string' ? { code: result.code } : {}) });
  }
  for (const command of commands) {
    if (command.type !== 'consultation.submit-comment' || typeof command.id !== 'string') continue;
    const consultation = facts.consultations.get(String(command.key));
    const outcome = facts.outcomes.get(command.id);
    if (!consultation || outcome?.status !== 'rejected' || outcome.code !== 'consultation-closed') continue;
    if (Date.parse(String(command.receivedAt)) <= consultation.deadline)
      facts.onTimeRefused.push({
        commandId: command.id,
        key: String(command.key),
        receivedAt: String(command.receivedAt),
        deadline: new Date(consultation.deadline).toISOString(),
      });
  }
  return facts;
}
