import { consultationCommandCodec, type CommandOutcome, type ConsultationCommand } from '@consult/contracts';
import type { BatchingProducer } from '@consult/kafka';
import type { ProjectionListener } from './projection-listener.js';
import { HttpProblem } from './problems.js';

export type Dispatched =
  | { state: 'decided'; outcome: CommandOutcome }
  /** Durably accepted for processing, but not decided (or not visible) within the wait: answer 202. */
  | { state: 'pending' };

/**
 * Sends commands to the single writer and waits, bounded, for the decision to be visible in the read models.
 * The command is validated before it is produced; a produce failure means nothing was accepted (503).
 */
export class CommandBus {
  constructor(
    private readonly producer: BatchingProducer,
    private readonly listener: ProjectionListener,
    private readonly commandsTopic: string,
    private readonly waitMs: number,
  ) {}

  async dispatch(command: ConsultationCommand): Promise<Dispatched> {
    const started = Date.now();
    const value = consultationCommandCodec.encode(command);
    const decision = this.listener.waitForOutcome(command.id, this.waitMs);
    try {
      await this.producer.send(this.commandsTopic, [
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
      const visible = await this.listener.waitForVersion(command.key, outcome.result.sequence, left);
      if (!visible) return { state: 'pending' };
    }
    return { state: 'decided', outcome };
  }
}
