import { evolve, type AppliedEvent, type ConsultationState } from './consultation.js';
import { viewOf, type ConsultationView } from './view.js';

export type DatedEvent = AppliedEvent & { occurredAt: string };

/**
 * The consultation as it stood at `asOf`: the events that had occurred by then (`occurredAt <= asOf`), in
 * sequence order, replayed through the same `evolve` and `viewOf` that serve the live state. Null when the
 * consultation did not exist yet. Events after the first later one are ignored: a stream's times never go back.
 */
export function consultationAsOf(events: Iterable<DatedEvent>, asOf: string): ConsultationView | null {
  const limit = Date.parse(asOf);
  let state: ConsultationState = null;
  for (const event of events) {
    if (Date.parse(event.occurredAt) > limit) break;
    state = evolve(state, event);
  }
  return state ? viewOf(state) : null;
}
