import { Type, type Static } from '@sinclair/typebox';
import { Actor, Rfc3339, Uuid } from './primitives.js';

/**
 * The single writer's answer to one command, keyed like the command. Accepted outcomes name the stream
 * sequence the command produced, so a reader can wait until its read model has reached it.
 */
export const CommandOutcomeV1 = Type.Object({
  type: Type.Literal('command.outcome'),
  version: Type.Literal(1),
  commandId: Uuid,
  commandType: Type.String(),
  key: Type.String(),
  decidedAt: Rfc3339,
  /** Who sent the command: only they may read its outcome through the status URL. */
  actor: Actor,
  result: Type.Union([
    Type.Object({
      status: Type.Literal('accepted'),
      /** Stream sequence after the command; unchanged for an idempotent replay. */
      sequence: Type.Integer({ minimum: 0 }),
      replayed: Type.Boolean(),
      receipt: Type.Record(Type.String(), Type.Unknown()),
    }),
    Type.Object({
      status: Type.Literal('rejected'),
      code: Type.String(),
      detail: Type.String(),
    }),
  ]),
});
export type CommandOutcome = Static<typeof CommandOutcomeV1>;
