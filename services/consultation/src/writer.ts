import {
  consultationCommandCodec,
  consultationEventCodec,
  writerGroupId,
  type ConsultationCommand,
  type ConsultationEvent,
  type TopicNames,
} from '@consult/contracts';
import { decide, evolve, type Consultation } from '@consult/domain';
import { TransactionalProcessor, type Kafka, type KafkaMessage, type TopicMessages } from '@consult/kafka';
import { ChainedStreams, malformedCommandOutputs, outcomeMessage, outcomeOf } from '@consult/streams';
import type { Logger } from '@consult/config';

export interface ConsultationWriterOptions {
  kafka: Kafka;
  logger: Logger;
  topics: TopicNames;
  /** Consumer group of the writers; one member owns each partition. */
  groupId?: string;
  now?: () => Date;
}

/**
 * The single writer of consultations. It owns the command partitions the group gives it, keeps the state of
 * their consultations in memory (rebuilt from the event topic on assignment), decides each command with the
 * pure domain, and commits events, outcomes and command offsets in one Kafka transaction.
 */
export class ConsultationWriter {
  private readonly streams: ChainedStreams<Consultation, ConsultationEvent>;
  private readonly processor: TransactionalProcessor;
  private readonly now: () => Date;
  private readonly logger: Logger;

  constructor(private readonly options: ConsultationWriterOptions) {
    this.now = options.now ?? (() => new Date());
    this.logger = options.logger;
    this.streams = new ChainedStreams<Consultation, ConsultationEvent>({
      kafka: options.kafka,
      logger: options.logger,
      topic: options.topics.consultationEvents,
      source: 'consultation-service',
      decode: (raw) => consultationEventCodec.decode(raw),
      encode: (event) => consultationEventCodec.encode(event),
      evolve,
    });
    this.processor = new TransactionalProcessor({
      kafka: options.kafka,
      logger: options.logger,
      groupId: options.groupId ?? writerGroupId(options.topics),
      inputTopic: options.topics.consultationCommands,
      transactionalIdPrefix: `${options.topics.consultationCommands}.writer`,
      load: async (partitions) => void (await this.streams.load(partitions)),
      process: (partition, messages) => this.process(partition, messages),
    });
  }

  async start(): Promise<void> {
    // Read the history while the group assigns partitions (after a crash it waits out the dead member).
    this.streams.warmUp();
    await this.processor.start();
  }

  /** Resolves once the writer owns partitions and has loaded their consultations. */
  get assigned(): Promise<void> {
    return this.processor.assigned;
  }

  async stop(): Promise<void> {
    await this.processor.stop();
  }

  private process(partition: number, messages: KafkaMessage[]): TopicMessages[] {
    const events: TopicMessages = { topic: this.options.topics.consultationEvents, messages: [] };
    const outcomes: TopicMessages = { topic: this.options.topics.consultationOutcomes, messages: [] };
    const quarantine: TopicMessages = { topic: this.options.topics.quarantine, messages: [] };
    for (const message of messages) {
      let command: ConsultationCommand;
      try {
        command = consultationCommandCodec.decode(message.value);
      } catch (error) {
        // Commands come from our gateway and services, which validate before producing; anything else is
        // set aside and, when it names a command id, answered as rejected.
        const group = this.options.groupId ?? writerGroupId(this.options.topics);
        const malformed = malformedCommandOutputs(group, this.options.topics.consultationCommands, partition, message, error, this.now().toISOString());
        this.logger.error({ offset: message.offset, partition, err: error }, 'quarantining a malformed command');
        quarantine.messages.push(malformed.quarantine);
        if (malformed.outcome) outcomes.messages.push(malformed.outcome);
        continue;
      }
      const decidedAt = this.now().toISOString();
      const decision = decide(this.streams.state(command.key), command);
      if (decision.ok)
        decision.events.forEach((draft, index) =>
          events.messages.push(this.streams.append(partition, command, index, draft, decidedAt).message),
        );
      outcomes.messages.push(outcomeMessage(command, decidedAt, outcomeOf(decision, this.streams.sequence(command.key))));
    }
    return [events, outcomes, quarantine];
  }
}
