/**
 * Where "now" comes from. Services that act on time (the deadline service) take a Clock so tests can move
 * time instead of sleeping; production uses `systemClock`.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
