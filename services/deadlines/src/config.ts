import { Type } from '@sinclair/typebox';
import { CommonEnv } from '@consult/config';

export const DeadlinesEnv = {
  ...CommonEnv,
  /** Closing waits this long past the deadline: comments stamped before it may still be in flight. */
  CLOSE_GRACE_MS: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 2_000 }),
  /** The ticker re-reads the schedule at least this often, besides waking for the next job and new jobs. */
  MAX_TICK_MS: Type.Integer({ minimum: 10, maximum: 60_000, default: 1_000 }),
};
