import {
  chainHash,
  commandOutcomeCodec,
  consultationCommandCodec,
  consultationEventCodec,
  ContractViolation,
  deterministicUuid,
  writerGroupId,
  type CommandOutcome,
  type ConsultationCommand,
  type ConsultationEvent,
  type TopicNames,
} from '@consult/contracts';
import { decide, evolve, type ConsultationState } from '@consult/domain';
import { readToEnd, TransactionalProcessor, type Kafka, type KafkaMessage, type TopicMessages } from '@consult/kafka';
import type { Logger } from '@consult/config';

export interface ConsultationWriterOptions {
  kafka: Kafka;
  logger: Logger;
  topics: TopicNames;
  /** Consumer group of the writers; one member owns each partition. */
  groupId?: string;
  now?: () => Date;
}

interface ChainHead {
  sequence: number;
  hash: string | null;
  occurredAt: string;
}

const SOURCE = 'consultation-service';

/**
 * The single writer of consultations. It owns the command partitions the group gives it, keeps the state of
 * their consultations in memory (rebuilt from the event topic on assignment), decides each command with the
 * pure domain, and commits events, outcomes and command offsets in one Kafka transaction.
 */
export class ConsultationWriter {
  private readonly states = new Map<string, ConsultationState>();
  private readonly heads = new Map<string, ChainHead>();
  private readonly streamsByPartition = new Map<number, Set<string>>();
  private readonly processor: TransactionalProcessor;
  private readonly now: () => Date;
  private readonly logger: Logger;

  constructor(private readonly options: ConsultationWriterOptions) {
    this.now = options.now ?? (() => new Date());
    this.logger = options.logger;
    this.processor = new TransactionalProcessor({
      kafka: options.kafka,
      logger: options.logger,
      groupId: options.groupId ?? writerGroupId(options.topics),
      inputTopic: options.topics.consultationCommands,
      transactionalIdPrefix: `${options.topics.consultationCommands}.writer`,
      onAssigned: (partitions) => this.load(partitions),
      process: (partition, messages) => this.process(partition, messages),
      onAborted: (partition) => this.load([partition]),
    });
  }

  async start(): Promise<void> {
    await this.processor.start();
  }

  /** Resolves once the writer owns partitions and has loaded their consultations. */
  get assigned(): Promise<void> {
    return this.processor.assigned;
  }

  async stop(): Promise<void> {
    await this.processor.stop();
  }

  /** Rebuilds the consultations of these partitions from their events, verifying each chain as it goes. */
  private async load(partitions: number[]): Promise<void> {
    const started = Date.now();
    for (const partition of partitions) {
      for (const id of this.streamsByPartition.get(partition) ?? []) {
        this.states.delete(id);
        this.heads.delete(id);
      }
      this.streamsByPartition.set(partition, new Set());
    }
    const { messages } = await readToEnd(this.options.kafka, {
      topic: this.options.topics.consultationEvents,
      partitions,
      logger: this.logger,
      groupIdPrefix: `${this.options.topics.consultationEvents}.writer-load`,
      onBatch: (partition, batch) => {
        for (const message of batch) this.applyStored(partition, message);
      },
    });
    this.logger.info({ partitions, events: messages, ms: Date.now() - started }, 'consultation state loaded');
  }

  private applyStored(partition: number, message: KafkaMessage): void {
    const event = consultationEventCodec.decode(message.value);
    const head = this.heads.get(event.key);
    const expected = (head?.sequence ?? 0) + 1;
    const { hash, ...unhashed } = event;
    if (event.sequence !== expected || event.previousHash !== (head?.hash ?? null) || chainHash(unhashed, event.previousHash) !== hash) {
      // The writer never extends a broken chain silently; the audit verifier reports where it broke.
      this.logger.error({ key: event.key, sequence: event.sequence, expected, offset: message.offset }, 'broken event chain');
    }
    this.remember(partition, event.key, evolve(this.states.get(event.key) ?? null, event), event);
  }

  private remember(partition: number, key: string, state: ConsultationState, event: ConsultationEvent): void {
    this.states.set(key, state);
    this.heads.set(key, { sequence: event.sequence, hash: event.hash, occurredAt: event.occurredAt });
    const streams = this.streamsByPartition.get(partition);
    if (streams) streams.add(key);
    else this.streamsByPartition.set(partition, new Set([key]));
  }

  private process(partition: number, messages: KafkaMessage[]): TopicMessages[] {
    const events: TopicMessages = { topic: this.options.topics.consultationEvents, messages: [] };
    const outcomes: TopicMessages = { topic: this.options.topics.consultationOutcomes, messages: [] };
    for (const message of messages) {
      let command: ConsultationCommand;
      try {
        command = consultationCommandCodec.decode(message.value);
      } catch (error) {
        // Commands come only from our gateway and services, which validate before producing.
        const reason = error instanceof ContractViolation ? error.problems : [String(error)];
        this.logger.error({ offset: message.offset, partition, reason }, 'skipping a malformed command');
        continue;
      }
      const decidedAt = this.now().toISOString();
      const state = this.states.get(command.key) ?? null;
      const decision = decide(state, command);
      let outcome: CommandOutcome['result'];
      if (decision.ok) {
        let current = state;
        decision.events.forEach((draft, index) => {
          const head = this.heads.get(command.key);
          const occurredAt = head && head.occurredAt > decidedAt ? head.occurredAt : decidedAt;
          const unhashed = {
            id: deterministicUuid(`${command.id}:${index}`),
            source: SOURCE,
            type: draft.type,
            version: 1 as const,
            occurredAt,
            key: command.key,
            correlationId: command.correlationId,
            causationId: command.id,
            actor: command.actor,
            sequence: (head?.sequence ?? 0) + 1,
            previousHash: head?.hash ?? null,
            data: draft.data,
          };
          const event = { ...unhashed, hash: chainHash(unhashed, unhashed.previousHash) } as ConsultationEvent;
          events.messages.push({
            key: command.key,
            value: consultationEventCodec.encode(event),
            headers: { 'event-type': event.type },
          });
          current = evolve(current, event);
          this.remember(partition, command.key, current, event);
        });
        outcome = {
          status: 'accepted',
          sequence: this.heads.get(command.key)?.sequence ?? 0,
          replayed: decision.replayed,
          receipt: decision.receipt,
        };
      } else {
        outcome = { status: 'rejected', code: decision.error.code, detail: decision.error.detail };
      }
      outcomes.messages.push({
        key: command.key,
        value: commandOutcomeCodec.encode({
          type: 'command.outcome',
          version: 1,
          commandId: command.id,
          commandType: command.type,
          key: command.key,
          decidedAt,
          actor: command.actor,
          result: outcome,
        }),
        headers: { 'command-id': command.id },
      });
    }
    return [events, outcomes];
  }
}
