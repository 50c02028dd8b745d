import {
  csoCommandCodec,
  csoEventCodec,
  csoWriterGroupId,
  deterministicUuid,
  identityEventCodec,
  type CsoCommand,
  type CsoEvent,
  type IdentityEvent,
  type TopicNames,
} from '@consult/contracts';
import { decideCso, evolveCso, type Cso, type CsoEventDraft } from '@consult/domain';
import type { KafkaClient } from '@consult/kafka';
import { SingleWriter, type Consequence, type WriterDefinition } from '@consult/streams';
import type { Logger } from '@consult/config';
import { followUpOf } from './co-signing.js';

const SOURCE = 'statements-service';

/**
 * The CSO stream's writer: accreditation and the CSO's written statements share one stream per CSO
 * (key = CSO id), so whether a statement is accepted is decided against the accreditation this writer itself
 * wrote, in the order the commands arrived, never against a copy that may lag behind a revocation. Besides
 * its events it commits the identity events of the API keys it issues or revokes, and co-signing's
 * commands to other CSOs' streams (see co-signing.ts).
 */
export function csoWriterDefinition(topics: TopicNames, groupId = csoWriterGroupId(topics)): WriterDefinition<CsoCommand, CsoEvent, Cso, CsoEventDraft> {
  return {
    source: SOURCE,
    groupId,
    topics: { commands: topics.csoCommands, events: topics.csoEvents, outcomes: topics.csoOutcomes, quarantine: topics.quarantine },
    decodeCommand: (raw) => csoCommandCodec.decode(raw),
    decodeEvent: (raw) => csoEventCodec.decode(raw),
    encodeEvent: (event) => csoEventCodec.encode(event),
    decide: decideCso,
    evolve: evolveCso,
    consequences: (event, command, state, decidedAt) => {
      const out: Consequence[] = [];
      const keyEvent = identityFor(command, event, state, decidedAt);
      if (keyEvent)
        out.push({ topic: topics.identityEvents, message: { key: keyEvent.key, value: identityEventCodec.encode(keyEvent), headers: { 'event-type': keyEvent.type } } });
      const followUp = followUpOf(event, command);
      if (followUp)
        out.push({ topic: topics.csoCommands, message: { key: followUp.key, value: csoCommandCodec.encode(followUp), headers: { 'command-type': followUp.type } } });
      return out;
    },
  };
}

/** API keys issued or revoked with an accreditation, as identity events (key = key id). */
function identityFor(command: CsoCommand, event: CsoEvent, state: Cso | null, decidedAt: string): IdentityEvent | null {
  const meta = {
    id: deterministicUuid(`${command.id}:identity`),
    source: SOURCE,
    version: 1 as const,
    occurredAt: decidedAt,
    correlationId: command.correlationId,
    causationId: event.id,
    actor: command.actor,
  };
  if (event.type === 'cso.accredited') {
    const d = event.data;
    return {
      ...meta,
      type: 'identity.api-key-issued',
      key: d.keyId,
      data: { keyId: d.keyId, keyHash: d.keyHash, principal: { kind: 'cso', id: d.csoId, name: d.name.slice(0, 200) }, issuedAt: decidedAt },
    };
  }
  if (event.type === 'cso.accreditation-revoked') {
    if (!state) return null;
    return {
      ...meta,
      type: 'identity.api-key-revoked',
      key: state.keyId,
      data: { keyId: state.keyId, keyHash: state.keyHash, revokedAt: decidedAt, reason: `accreditation revoked: ${event.data.reason}` },
    };
  }
  return null;
}

export interface CsoWriterOptions {
  kafka: KafkaClient;
  logger: Logger;
  topics: TopicNames;
  /** Consumer group of the writers; one member owns each partition. */
  groupId?: string;
  now?: () => Date;
}

/** The single writer of CSO streams (see csoWriterDefinition and SingleWriter). */
export class CsoWriter extends SingleWriter<CsoCommand, CsoEvent, Cso, CsoEventDraft> {
  constructor({ topics, groupId, ...options }: CsoWriterOptions) {
    super(csoWriterDefinition(topics, groupId), options);
  }
}
