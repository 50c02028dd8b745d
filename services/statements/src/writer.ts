import {
  chainHash,
  commandOutcomeCodec,
  ContractViolation,
  csoCommandCodec,
  csoEventCodec,
  csoWriterGroupId,
  deterministicUuid,
  identityEventCodec,
  type CommandOutcome,
  type CsoCommand,
  type CsoEvent,
  type IdentityEvent,
  type TopicNames,
} from '@consult/contracts';
import { decideCso, evolveCso, type CsoState } from '@consult/domain';
import { readToEnd, TransactionalProcessor, type Kafka, type KafkaMessage, type TopicMessages } from '@consult/kafka';
import type { Logger } from '@consult/config';

export interface CsoWriterOptions {
  kafka: Kafka;
  logger: Logger;
  topics: TopicNames;
  groupId?: string;
  now?: () => Date;
}

interface ChainHead {
  sequence: number;
  hash: string | null;
  occurredAt: string;
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
  private readonly states = new Map<string, CsoState>();
  private readonly heads = new Map<string, ChainHead>();
  private readonly streamsByPartition = new Map<number, Set<string>>();
  private readonly processor: TransactionalProcessor;
  private readonly now: () => Date;
  private readonly logger: Logger;

  constructor(private readonly options: CsoWriterOptions) {
    this.now = options.now ?? (() => new Date());
    this.logger = options.logger;
    this.processor = new TransactionalProcessor({
      kafka: options.kafka,
      logger: options.logger,
      groupId: options.groupId ?? csoWriterGroupId(options.topics),
      inputTopic: options.topics.csoCommands,
      transactionalIdPrefix: `${options.topics.csoCommands}.writer`,
      onAssigned: (partitions) => this.load(partitions),
      process: (partition, messages) => this.process(partition, messages),
      onAborted: (partition) => this.load([partition]),
    });
  }

  async start(): Promise<void> {
    await this.processor.start();
  }

  get assigned(): Promise<void> {
    return this.processor.assigned;
  }

  async stop(): Promise<void> {
    await this.processor.stop();
  }

  /** Loading right after topics were created can meet a partition without a leader yet: retry what is retriable. */
  private async load(partitions: number[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.loadOnce(partitions);
      } catch (error) {
        const retriable = (error as { retriable?: unknown }).retriable === true;
        if (!retriable || attempt >= 5) throw error;
        this.logger.warn({ err: error, attempt }, 'loading CSO state failed; retrying');
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }

  private async loadOnce(partitions: number[]): Promise<void> {
    const started = Date.now();
    for (const partition of partitions) {
      for (const id of this.streamsByPartition.get(partition) ?? []) {
        this.states.delete(id);
        this.heads.delete(id);
      }
      this.streamsByPartition.set(partition, new Set());
    }
    const { messages } = await readToEnd(this.options.kafka, {
      topic: this.options.topics.csoEvents,
      partitions,
      logger: this.logger,
      groupIdPrefix: `${this.options.topics.csoEvents}.writer-load`,
      onBatch: (partition, batch) => {
        for (const message of batch) this.applyStored(partition, message);
      },
    });
    this.logger.info({ partitions, events: messages, ms: Date.now() - started }, 'CSO state loaded');
  }

  private applyStored(partition: number, message: KafkaMessage): void {
    const event = csoEventCodec.decode(message.value);
    const head = this.heads.get(event.key);
    const expected = (head?.sequence ?? 0) + 1;
    const { hash, ...unhashed } = event;
    if (event.sequence !== expected || event.previousHash !== (head?.hash ?? null) || chainHash(unhashed, event.previousHash) !== hash) {
      this.logger.error({ key: event.key, sequence: event.sequence, expected, offset: message.offset }, 'broken event chain');
    }
    this.remember(partition, event.key, evolveCso(this.states.get(event.key) ?? null, event), event);
  }

  private remember(partition: number, key: string, state: CsoState, event: CsoEvent): void {
    this.states.set(key, state);
    this.heads.set(key, { sequence: event.sequence, hash: event.hash, occurredAt: event.occurredAt });
    const streams = this.streamsByPartition.get(partition);
    if (streams) streams.add(key);
    else this.streamsByPartition.set(partition, new Set([key]));
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
      const state = this.states.get(event.key);
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
    const identity: TopicMessages = { topic: this.options.topics.identityEvents, messages: [] };
    for (const message of messages) {
      let command: CsoCommand;
      try {
        command = csoCommandCodec.decode(message.value);
      } catch (error) {
        const reason = error instanceof ContractViolation ? error.problems : [String(error)];
        this.logger.error({ offset: message.offset, partition, reason }, 'skipping a malformed command');
        continue;
      }
      const decidedAt = this.now().toISOString();
      const state = this.states.get(command.key) ?? null;
      const decision = decideCso(state, command);
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
          const event = { ...unhashed, hash: chainHash(unhashed, unhashed.previousHash) } as CsoEvent;
          events.messages.push({ key: command.key, value: csoEventCodec.encode(event), headers: { 'event-type': event.type } });
          const keyEvent = this.identityFor(command, event, decidedAt);
          if (keyEvent)
            identity.messages.push({ key: keyEvent.key, value: identityEventCodec.encode(keyEvent), headers: { 'event-type': keyEvent.type } });
          current = evolveCso(current, event);
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
    return [events, outcomes, identity];
  }
}
