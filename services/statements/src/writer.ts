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
import { decideCso, evolveCso, type Cso } from '@consult/domain';
import { TransactionalProcessor, type Kafka, type KafkaMessage, type TopicMessages } from '@consult/kafka';
import { ChainedStreams, malformedCommandOutputs, outcomeMessage, outcomeOf } from '@consult/streams';
import { followUpOf } from './co-signing.js';
import type { Logger } from '@consult/config';

export interface CsoWriterOptions {
  kafka: Kafka;
  logger: Logger;
  topics: TopicNames;
  groupId?: string;
  now?: () => Date;
}

const SOURCE = 'statements-service';

/**
 * The single writer of CSO streams: accreditation and the CSO's written statements share one stream per CSO
 * (key = CSO id), so whether a statement is accepted is decided against the accreditation this writer itself
 * wrote, in the order the commands arrived, never against a copy that may lag behind a revocation.
 *
 * Like the consultation writer, it rebuilds its partitions' streams from `cso.events` on assignment, chains
 * every event (sequence, previousHash, hash), and commits events, outcomes, the identity events of the API
 * keys it issues or revokes, and the command offsets in one Kafka transaction.
 *
 * TODO(notifications): transitions of statements (forwarded, returned, acknowledged) should notify the CSO and
 * the Standing Committee through subscriptions once the subscriptions service exists; the events carry
 * everything a notifier needs (actor, time, statement id, CSO id).
 */
export class CsoWriter {
  private readonly streams: ChainedStreams<Cso, CsoEvent>;
  private readonly processor: TransactionalProcessor;
  private readonly now: () => Date;
  private readonly logger: Logger;

  constructor(private readonly options: CsoWriterOptions) {
    this.now = options.now ?? (() => new Date());
    this.logger = options.logger;
    this.streams = new ChainedStreams<Cso, CsoEvent>({
      kafka: options.kafka,
      logger: options.logger,
      topic: options.topics.csoEvents,
      source: SOURCE,
      decode: (raw) => csoEventCodec.decode(raw),
      encode: (event) => csoEventCodec.encode(event),
      evolve: evolveCso,
    });
    this.processor = new TransactionalProcessor({
      kafka: options.kafka,
      logger: options.logger,
      groupId: options.groupId ?? csoWriterGroupId(options.topics),
      inputTopic: options.topics.csoCommands,
      transactionalIdPrefix: `${options.topics.csoCommands}.writer`,
      load: async (partitions) => void (await this.streams.load(partitions)),
      process: (partition, messages) => this.process(partition, messages),
    });
  }

  async start(): Promise<void> {
    // Read the history while the group assigns partitions (after a crash it waits out the dead member).
    this.streams.warmUp();
    await this.processor.start();
  }

  get assigned(): Promise<void> {
    return this.processor.assigned;
  }

  async stop(): Promise<void> {
    await this.processor.stop();
  }

  /** API keys issued or revoked with an accreditation, as identity events (key = key id). */
  private identityFor(command: CsoCommand, event: CsoEvent, decidedAt: string): IdentityEvent | null {
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
      const state = this.streams.state(event.key);
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

  private process(partition: number, messages: KafkaMessage[]): TopicMessages[] {
    const events: TopicMessages = { topic: this.options.topics.csoEvents, messages: [] };
    const outcomes: TopicMessages = { topic: this.options.topics.csoOutcomes, messages: [] };
    const quarantine: TopicMessages = { topic: this.options.topics.quarantine, messages: [] };
    const identity: TopicMessages = { topic: this.options.topics.identityEvents, messages: [] };
    // Co-signing: commands to another CSO's stream, in this same transaction (see co-signing.ts).
    const followUps: TopicMessages = { topic: this.options.topics.csoCommands, messages: [] };
    for (const message of messages) {
      let command: CsoCommand;
      try {
        command = csoCommandCodec.decode(message.value);
      } catch (error) {
        // Commands come from our gateway and services, which validate before producing; anything else is
        // set aside and, when it names a command id, answered as rejected.
        const group = this.options.groupId ?? csoWriterGroupId(this.options.topics);
        const malformed = malformedCommandOutputs(group, this.options.topics.csoCommands, partition, message, error, this.now().toISOString());
        this.logger.error({ offset: message.offset, partition, err: error }, 'quarantining a malformed command');
        quarantine.messages.push(malformed.quarantine);
        if (malformed.outcome) outcomes.messages.push(malformed.outcome);
        continue;
      }
      const decidedAt = this.now().toISOString();
      const decision = decideCso(this.streams.state(command.key), command);
      if (decision.ok)
        decision.events.forEach((draft, index) => {
          const { event, message: eventMessage } = this.streams.append(partition, command, index, draft, decidedAt);
          events.messages.push(eventMessage);
          const keyEvent = this.identityFor(command, event, decidedAt);
          if (keyEvent)
            identity.messages.push({ key: keyEvent.key, value: identityEventCodec.encode(keyEvent), headers: { 'event-type': keyEvent.type } });
          const followUp = followUpOf(event, command);
          if (followUp)
            followUps.messages.push({ key: followUp.key, value: csoCommandCodec.encode(followUp), headers: { 'command-type': followUp.type } });
        });
      outcomes.messages.push(outcomeMessage(command, decidedAt, outcomeOf(decision, this.streams.sequence(command.key))));
    }
    return [events, outcomes, identity, quarantine, followUps];
  }
}
