import { consultationCommandCodec, type CommandOutcome, type ConsultationCommand } from '@consult/contracts';
import type { BatchingProducer } from '@consult/kafka';
import type { ProjectionListener } from './projection-listener.js';
import { HttpProblem } from './problems.js';
import type { SentCommands, Sender } from './sent-commands.js';

export type Dispatched =
  | { state: 'decided'; outcome: CommandOutcome }
  /** Durably accepted for processing, but not decided (or not visible) within the wait: answer 202. */
  | { state: 'pending' };

/** Where a command of another stream goes and how its read model's version is found. */
export interface CommandRoute<C extends { id: string; key: string; type: string }> {
  topic: string;
  /** Validates and serialises (a contracts codec's `encode`). */
  encode: (command: C) => string;
  /** The key the projector announces the stream's version under (default: the command key). */
  versionKey?: (key: string) => string;
  /** Reads the stored version when a notice may have been missed. */
  storedVersion?: (key: string) => Promise<number>;
}

/** What routes send commands through: the Kafka-backed `CommandBus`, or a stand-in (the benchmark's HTTP floor). */
export interface CommandDispatcher {
  dispatch(command: ConsultationCommand): Promise<Dispatched>;
  dispatchTo<C extends { id: string; key: string; type: string; actor?: Sender }>(route: CommandRoute<C>, command: C): Promise<Dispatched>;
  /** How long a dispatch waits in total; routes that wait for more (e.g. an API key) share the budget. */
  readonly timeoutMs: number;
}

/**
 * Sends commands to the single writer and waits, bounded, for the decision to be visible in the read models.
 * The command is validated before it is produced; a produce failure means nothing was accepted (503).
 */
export class CommandBus implements CommandDispatcher {
  constructor(
    private readonly producer: BatchingProducer,
    private readonly listener: ProjectionListener,
    private readonly commandsTopic: string,
    private readonly waitMs: number,
    private readonly sent?: SentCommands,
  ) {}

  async dispatch(command: ConsultationCommand): Promise<Dispatched> {
    return this.dispatchTo({ topic: this.commandsTopic, encode: (c) => consultationCommandCodec.encode(c) }, command);
  }

  /** The same for a command of another stream (e.g. CSOs): its own topic and codec. */
  async dispatchTo<C extends { id: string; key: string; type: string; actor?: Sender }>(route: CommandRoute<C>, command: C): Promise<Dispatched> {
    const started = Date.now();
    const value = route.encode(command);
    const decision = this.listener.waitForOutcome(command.id, this.waitMs);
    try {
      if (this.sent && command.actor) await this.sent.remember(command.id, command.actor);
      await this.producer.send(route.topic, [
        { key: command.key, value, headers: { 'command-type': command.type } },
      ]);
    } catch {
      this.listener.cancelOutcome(command.id);
      throw new HttpProblem('service-unavailable', 'the command could not be stored; nothing was accepted');
    }
    const outcome = await decision;
    if (!outcome) return { state: 'pending' };
    if (outcome.result.status === 'accepted' && outcome.result.sequence > 0) {
      const left = Math.max(1, this.waitMs - (Date.now() - started));
      const versionKey = route.versionKey ? route.versionKey(command.key) : command.key;
      const storedVersion = route.storedVersion;
      const visible = storedVersion
        ? await this.listener.waitForVersion(versionKey, outcome.result.sequence, left, () => storedVersion(command.key))
        : await this.listener.waitForVersion(versionKey, outcome.result.sequence, left);
      if (!visible) return { state: 'pending' };
    }
    return { state: 'decided', outcome };
  }

  /** How long a dispatch waits in total; routes that wait for more (e.g. an API key) share the budget. */
  get timeoutMs(): number {
    return this.waitMs;
  }
}
