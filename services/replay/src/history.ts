import type { Logger } from '@consult/config';
import { consultationEventCodec, type ConsultationEvent } from '@consult/contracts';
import { consultationAsOf, localizeView, type ConsultationView } from '@consult/domain';
import type { KafkaClient } from '@consult/kafka';
import { readEventRecords } from './events.js';
import type { ProgressSink } from './progress.js';

export interface HistoryOptions {
  kafka: KafkaClient;
  logger: Logger;
  topic: string;
  consultation: string;
  progress?: ProgressSink;
}

/** Every event of one consultation from Kafka (the system of record), decoded, in stored order. */
export async function consultationHistory(options: HistoryOptions): Promise<ConsultationEvent[]> {
  const events: ConsultationEvent[] = [];
  await readEventRecords({
    kafka: options.kafka,
    logger: options.logger,
    topic: options.topic,
    key: options.consultation,
    ...(options.progress ? { progress: options.progress } : {}),
    onRecords: (records) => {
      for (const r of records) events.push(consultationEventCodec.decode(r.value));
    },
  });
  return events;
}

/**
 * The consultation as it stood at `asOf`, replayed through the domain (the same code the API uses), in the
 * original language as the API answers without Accept-Language.
 */
export function stateAsOf(events: readonly ConsultationEvent[], asOf: string): (ConsultationView & { asOf: string }) | null {
  const view = consultationAsOf(events, asOf);
  return view ? { ...localizeView(view, undefined), asOf } : null;
}

/** One line per event: sequence, time, type, actor, a short hash and what changed. */
export function formatHistoryLine(event: ConsultationEvent): string {
  const d = event.data as Record<string, unknown>;
  const what = (() => {
    switch (event.type) {
      case 'consultation.opened':
        return `${event.data.reference} deadline ${event.data.deadline} addressees ${event.data.addressees.join(',')}`;
      case 'consultation.comment-submitted':
        return `${event.data.trackingNumber} ${event.data.memberState} (${event.data.language}, ${event.data.body.length} chars)`;
      case 'consultation.comment-amended':
        return `comment ${event.data.commentId} ${event.data.memberState} revision ${event.data.revision}`;
      case 'consultation.comment-withdrawn':
        return `comment ${event.data.commentId} ${event.data.memberState}`;
      case 'consultation.deadline-extended':
        return `${event.data.previousDeadline} -> ${event.data.deadline}: ${event.data.reason}`;
      case 'consultation.closed': {
        const silence = event.data.silence ? ` silence ${event.data.silence.outcome}${event.data.silence.brokenBy.map((b) => ` ${b.memberState}@${b.receivedAt}`).join('')}` : '';
        return `responded ${event.data.responded.join(',') || '-'} no-comments ${event.data.noComments.join(',') || '-'} pending ${event.data.pending.join(',') || '-'}${silence}`;
      }
      case 'consultation.no-comments-submitted':
        return `${event.data.memberState} no comments (version ${event.data.documentVersion})`;
      case 'consultation.silence-broken':
        return `${event.data.memberState} broke silence: ${event.data.reason}`;
      case 'consultation.silence-outcome-revised':
        return `${event.data.previousOutcome} -> ${event.data.outcome}: ${event.data.memberState}@${event.data.receivedAt} (deadline ${event.data.deadline}) ${event.data.cause}, after the closing at ${event.data.closedAt}`;
      case 'consultation.document-version-issued':
        return `${event.data.symbol} (version ${event.data.version}${event.data.resetsDeadline ? `, deadline reset to ${event.data.deadline}` : ''}${event.data.resetsSilence ? ', silence reset' : ''})`;
      default:
        return JSON.stringify(d);
    }
  })();
  return `#${event.sequence} ${event.occurredAt} ${event.type} by ${event.actor.kind}:${event.actor.id} hash ${event.hash.slice(0, 12)} ${what}`;
}
