import {
  consultationCommandCodec,
  consultationEventCodec,
  writerGroupId,
  type ConsultationCommand,
  type ConsultationEvent,
  type TopicNames,
} from '@consult/contracts';
import { decide, evolve, type Consultation, type EventDraft } from '@consult/domain';
import type { KafkaClient } from '@consult/kafka';
import { SingleWriter, type WriterDefinition } from '@consult/streams';
import type { Logger } from '@consult/config';

/** The consultation stream's writer: one stream per consultation (key = consultation id). */
export function consultationWriterDefinition(topics: TopicNames, groupId = writerGroupId(topics)): WriterDefinition<ConsultationCommand, ConsultationEvent, Consultation, EventDraft> {
  return {
    source: 'consultation-service',
    groupId,
    topics: { commands: topics.consultationCommands, events: topics.consultationEvents, outcomes: topics.consultationOutcomes, quarantine: topics.quarantine },
    decodeCommand: (raw) => consultationCommandCodec.decode(raw),
    decodeEvent: (raw) => consultationEventCodec.decode(raw),
    encodeEvent: (event) => consultationEventCodec.encode(event),
    decide,
    evolve,
  };
}

export interface ConsultationWriterOptions {
  kafka: KafkaClient;
  logger: Logger;
  topics: TopicNames;
  /** Consumer group of the writers; one member owns each partition. */
  groupId?: string;
  now?: () => Date;
}

/** The single writer of consultations (see SingleWriter). */
export class ConsultationWriter extends SingleWriter<ConsultationCommand, ConsultationEvent, Consultation, EventDraft> {
  constructor({ topics, groupId, ...options }: ConsultationWriterOptions) {
    super(consultationWriterDefinition(topics, groupId), options);
  }
}
