import type { Logger } from '@consult/config';
import { TransactionalProcessor, type KafkaClient, type ConsumedRecord, type ProducedRecord, type TopicRecords } from '@consult/kafka';
import { ChainedStreams, outcomeMessage, outcomeOf, type ChainedEvent, type CommandMeta } from './chained-streams.js';
import { malformedCommandOutputs } from './malformed-command.js';

/** What a decider answers: events to append (drafts), or a refusal with a stable code. */
export type WriterDecision<D> =
  | { ok: true; events: D[]; receipt: Record<string, unknown>; replayed: boolean }
  | { ok: false; error: { code: string; detail: string } };

/** Messages an appended event causes besides itself, committed in the same transaction. */
export interface Consequence {
  topic: string;
  message: ProducedRecord;
}

/**
 * Everything that makes one stream's single writer: its topics and group, codecs, the pure decider and
 * evolver, and the consequences of an event outside its stream. The writer itself is generic.
 */
export interface WriterDefinition<C extends CommandMeta, E extends ChainedEvent, S, D extends { type: string; version?: number; data: unknown }> {
  /** `source` of the events this writer produces. */
  source: string;
  /** Consumer group of the writers; one member owns each command partition. */
  groupId: string;
  topics: { commands: string; events: string; outcomes: string; quarantine: string };
  decodeCommand: (raw: Buffer | null) => C;
  decodeEvent: (raw: Buffer | null) => E;
  encodeEvent: (event: E) => string;
  decide: (state: S | null, command: C) => WriterDecision<D>;
  evolve: (state: S | null, event: E) => S | null;
  /** Called for each appended event with the stream's state after it. */
  consequences?: (event: E, command: C, state: S | null, decidedAt: string) => Consequence[];
}

export interface SingleWriterOptions {
  kafka: KafkaClient;
  logger: Logger;
  now?: () => Date;
}

/**
 * The single writer of a stream. It owns the command partitions the group gives it, keeps the state of their
 * streams in memory (read from the event topic, see ChainedStreams), decides each command with the pure
 * domain, and commits events, outcomes, consequences and command offsets in one Kafka transaction.
 */
export class SingleWriter<C extends CommandMeta, E extends ChainedEvent, S, D extends { type: string; version?: number; data: unknown }> {
  private readonly streams: ChainedStreams<S, E>;
  private readonly processor: TransactionalProcessor;
  private readonly now: () => Date;

  constructor(
    private readonly definition: WriterDefinition<C, E, S, D>,
    private readonly options: SingleWriterOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.streams = new ChainedStreams<S, E>({
      kafka: options.kafka,
      logger: options.logger,
      topic: definition.topics.events,
      source: definition.source,
      decode: definition.decodeEvent,
      encode: definition.encodeEvent,
      evolve: definition.evolve,
    });
    this.processor = new TransactionalProcessor({
      kafka: options.kafka,
      logger: options.logger,
      groupId: definition.groupId,
      inputTopic: definition.topics.commands,
      transactionalIdPrefix: `${definition.topics.commands}.writer`,
      load: async (partitions) => void (await this.streams.load(partitions)),
      process: (partition, messages) => this.process(partition, messages),
    });
  }

  async start(): Promise<void> {
    // Read the history while the group assigns partitions (after a crash it waits out the dead member).
    this.streams.warmUp();
    await this.processor.start();
  }

  /** Resolves once the writer owns partitions and has loaded their streams. */
  get assigned(): Promise<void> {
    return this.processor.assigned;
  }

  async stop(): Promise<void> {
    await this.processor.stop();
  }

  private process(partition: number, messages: ConsumedRecord[]): TopicRecords[] {
    const { definition, options } = this;
    const events: TopicRecords = { topic: definition.topics.events, messages: [] };
    const outcomes: TopicRecords = { topic: definition.topics.outcomes, messages: [] };
    const quarantine: TopicRecords = { topic: definition.topics.quarantine, messages: [] };
    const others = new Map<string, TopicRecords>();
    for (const message of messages) {
      let command: C;
      try {
        command = definition.decodeCommand(message.value);
      } catch (error) {
        // Commands come from our gateway and services, which validate before producing; anything else is
        // set aside and, when it names a command id, answered as rejected.
        const malformed = malformedCommandOutputs(definition.groupId, definition.topics.commands, partition, message, error, this.now().toISOString());
        options.logger.error({ offset: message.offset, partition, err: error }, 'quarantining a malformed command');
        quarantine.messages.push(malformed.quarantine);
        if (malformed.outcome) outcomes.messages.push(malformed.outcome);
        continue;
      }
      const decidedAt = this.now().toISOString();
      const decision = definition.decide(this.streams.state(command.key), command);
      if (decision.ok)
        decision.events.forEach((draft, index) => {
          const { event, message: eventMessage } = this.streams.append(partition, command, index, draft, decidedAt);
          events.messages.push(eventMessage);
          for (const { topic, message: consequence } of definition.consequences?.(event, command, this.streams.state(command.key), decidedAt) ?? []) {
            const list = others.get(topic) ?? { topic, messages: [] };
            list.messages.push(consequence);
            others.set(topic, list);
          }
        });
      outcomes.messages.push(outcomeMessage(command, decidedAt, outcomeOf(decision, this.streams.sequence(command.key))));
    }
    return [events, outcomes, ...others.values(), quarantine];
  }
}
