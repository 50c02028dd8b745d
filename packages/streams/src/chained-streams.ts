import { chainHash, commandOutcomeCodec, deterministicUuid, type Actor, type CommandOutcome } from '@consult/contracts';
import type { Logger } from '@consult/config';
import { readToEnd, type KafkaClient, type ConsumedRecord, type ProducedRecord } from '@consult/kafka';
import { isPoison } from './quarantine.js';

/** What every event of a hash-chained stream carries. */
export interface ChainedEvent {
  id: string;
  type: string;
  key: string;
  occurredAt: string;
  sequence: number;
  previousHash: string | null;
  hash: string;
}

/** The command fields a chained event inherits: its id (causation), correlation, actor and stream key. */
export interface CommandMeta {
  id: string;
  type: string;
  key: string;
  correlationId: string;
  actor: Actor;
}

interface ChainHead {
  sequence: number;
  hash: string | null;
  occurredAt: string;
}

export interface ChainedStreamsOptions<S, E extends ChainedEvent> {
  kafka: KafkaClient;
  logger: Logger;
  /** The history topic the streams are rebuilt from. */
  topic: string;
  /** `source` of the events this writer produces. */
  source: string;
  decode: (raw: Buffer | null) => E;
  encode: (event: E) => string;
  evolve: (state: S | null, event: E) => S | null;
}

/**
 * The state a single writer keeps for the streams of the partitions it owns: each stream's domain state and
 * chain head, rebuilt from the history topic on assignment (verifying the chain as it goes), and extended by
 * `append`, which chains a drafted event (sequence, previousHash, hash) and returns the message to produce.
 * Event ids derive from the command id, so deciding the same command again yields the same events.
 */
export class ChainedStreams<S, E extends ChainedEvent> {
  private readonly states = new Map<string, S | null>();
  private readonly heads = new Map<string, ChainHead>();
  private readonly streamsByPartition = new Map<number, Set<string>>();
  /**
   * Per partition, the offset up to which the state is exactly the history topic's; absent once an event
   * was appended (it may abort) or before the first read.
   */
  private readonly positions = new Map<number, number>();
  private warming: Promise<void> | undefined;

  constructor(private readonly options: ChainedStreamsOptions<S, E>) {}

  state(key: string): S | null {
    return this.states.get(key) ?? null;
  }

  /** The sequence of a stream's last event (0 before the first). */
  sequence(key: string): number {
    return this.heads.get(key)?.sequence ?? 0;
  }

  /**
   * Starts reading every partition's history before any is assigned: a restarted writer does so while its
   * group still waits out the dead member's session, and a take-over then reads only what was written since.
   * A failed warm-up costs only the head start (`load` reads from the beginning).
   */
  warmUp(): void {
    this.warming = this.read(undefined).then(
      () => undefined,
      (error: unknown) => this.options.logger.warn({ err: error, topic: this.options.topic }, 'warming up stream state failed'),
    );
  }

  /**
   * Brings these partitions' streams up to date with the history topic: from where the state was last read
   * if nothing was appended since (appended events may not have committed), from the beginning otherwise.
   */
  async load(partitions: number[]): Promise<number> {
    await this.warming;
    return this.read(partitions);
  }

  private async read(partitions: number[] | undefined): Promise<number> {
    const { kafka, logger, topic } = this.options;
    const started = Date.now();
    const from = new Map<number, number>();
    if (!partitions) {
      this.states.clear();
      this.heads.clear();
      this.streamsByPartition.clear();
      this.positions.clear();
    }
    for (const partition of partitions ?? []) {
      const position = this.positions.get(partition);
      if (position !== undefined) {
        from.set(partition, position);
        continue;
      }
      for (const key of this.streamsByPartition.get(partition) ?? []) {
        this.states.delete(key);
        this.heads.delete(key);
      }
      this.streamsByPartition.set(partition, new Set());
    }
    const { messages, ends } = await readToEnd(kafka, {
      topic,
      ...(partitions ? { partitions } : {}),
      from,
      logger,
      groupIdPrefix: `${topic}.writer-load`,
      onBatch: (partition, batch) => {
        for (const message of batch) this.applyStored(partition, message);
      },
    });
    for (const [partition, end] of ends) this.positions.set(partition, end);
    logger.info({ topic, partitions: partitions ?? 'all', events: messages, caughtUp: from.size, ms: Date.now() - started }, 'stream state loaded');
    return messages;
  }

  private applyStored(partition: number, message: ConsumedRecord): void {
    let event: E;
    try {
      event = this.options.decode(message.value);
    } catch (error) {
      // Not an event of ours (the projectors quarantine it); no stream's chain includes it.
      if (!isPoison(error)) throw error;
      this.options.logger.error({ topic: this.options.topic, partition, offset: message.offset, err: error }, 'skipping a record that does not decode');
      return;
    }
    const head = this.heads.get(event.key);
    const expected = (head?.sequence ?? 0) + 1;
    // The chain covers the event as produced, not as upcast to its newest version.
    const { hash, ...unhashed } = JSON.parse(message.value!.toString('utf8')) as { hash: string };
    if (
      event.sequence !== expected ||
      event.previousHash !== (head?.hash ?? null) ||
      chainHash(unhashed, event.previousHash) !== hash
    ) {
      // The writer never extends a broken chain silently; the audit verifier reports where it broke.
      this.options.logger.error({ key: event.key, sequence: event.sequence, expected, offset: message.offset }, 'broken event chain');
    }
    this.remember(partition, event);
  }

  private remember(partition: number, event: E): void {
    this.states.set(event.key, this.options.evolve(this.states.get(event.key) ?? null, event));
    this.heads.set(event.key, { sequence: event.sequence, hash: event.hash, occurredAt: event.occurredAt });
    const streams = this.streamsByPartition.get(partition);
    if (streams) streams.add(event.key);
    else this.streamsByPartition.set(partition, new Set([event.key]));
  }

  /**
   * Chains the `index`-th event a command produced onto its stream, applies it to the stream's state and
   * returns it with the message to produce. `occurredAt` never goes backwards within a stream.
   */
  append(
    partition: number,
    command: CommandMeta,
    index: number,
    draft: { type: string; version?: number; data: unknown },
    decidedAt: string,
  ): { event: E; message: ProducedRecord } {
    const head = this.heads.get(command.key);
    const unhashed = {
      id: deterministicUuid(`${command.id}:${index}`),
      source: this.options.source,
      type: draft.type,
      version: draft.version ?? 1,
      occurredAt: head && head.occurredAt > decidedAt ? head.occurredAt : decidedAt,
      key: command.key,
      correlationId: command.correlationId,
      causationId: command.id,
      actor: command.actor,
      sequence: (head?.sequence ?? 0) + 1,
      previousHash: head?.hash ?? null,
      data: draft.data,
    };
    const event = { ...unhashed, hash: chainHash(unhashed, unhashed.previousHash) } as unknown as E;
    const message: ProducedRecord = { key: command.key, value: this.options.encode(event), headers: { 'event-type': event.type } };
    this.positions.delete(partition);
    this.remember(partition, event);
    return { event, message };
  }
}

/** The outcome message of a command, keyed like it, for the gateway waiting on it and for the status URL. */
export function outcomeMessage(command: CommandMeta, decidedAt: string, result: CommandOutcome['result']): ProducedRecord {
  return {
    key: command.key,
    value: commandOutcomeCodec.encode({
      type: 'command.outcome',
      version: 1,
      commandId: command.id,
      commandType: command.type,
      key: command.key,
      decidedAt,
      actor: command.actor,
      result,
    }),
    headers: { 'command-id': command.id },
  };
}

/** The result of a decision as an outcome: accepted with the stream's sequence after it, or rejected. */
export function outcomeOf(
  decision: { ok: true; replayed: boolean; receipt: Record<string, unknown> } | { ok: false; error: { code: string; detail: string } },
  sequence: number,
): CommandOutcome['result'] {
  return decision.ok
    ? { status: 'accepted', sequence, replayed: decision.replayed, receipt: decision.receipt }
    : { status: 'rejected', code: decision.error.code, detail: decision.error.detail };
}
