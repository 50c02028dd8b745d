import type { Actor, AttachmentRef, CsoEvent, StatementStatus } from '@consult/contracts';
import { evolveCso, type CsoState } from './statements.js';

/** A statement as the API shows it (the read model's shape), rebuilt from its organisation's stream. */
export interface StatementAsOfView {
  statementId: string;
  trackingNumber: string;
  csoId: string;
  subject: string;
  body: string;
  language: string;
  relatesTo?: string;
  receivedAt: string;
  status: StatementStatus;
  lastChangedAt: string;
  forwardingNote?: string;
  returnReasons?: string;
  history: { status: StatementStatus; at: string; actor: Actor; note?: string; reasons?: string }[];
  coSigners?: { csoId: string; status: 'pending' | 'confirmed' | 'declined'; at?: string; reason?: string }[];
  attachments?: AttachmentRef[];
}

const TRANSITIONS: Partial<Record<CsoEvent['type'], StatementStatus>> = {
  'cso.statement-submitted': 'submitted',
  'cso.statement-review-started': 'under-review',
  'cso.statement-forwarded': 'forwarded',
  'cso.statement-returned': 'returned',
  'cso.statement-acknowledged': 'acknowledged',
  'cso.statement-co-signed': 'submitted',
  'cso.statement-co-signing-declined': 'co-signing-declined',
};

/** The status the domain gave a statement (after the event just applied). */
function domainStatusOf(state: CsoState, statementId: string): StatementStatus | undefined {
  return state?.statements.get(statementId)?.status;
}

/**
 * One statement as it stood at `asOf`: its organisation's events that had occurred by then (`occurredAt <=
 * asOf`), in sequence order, replayed through the same `evolveCso` the single writer decides with; the status
 * and time of the last change come from that state, the text and the transitions' authors from the events.
 * Null when the statement did not exist yet. As for consultations, a stream's times never go back, so the
 * first later event ends the replay.
 */
export function statementAsOf(events: Iterable<CsoEvent>, statementId: string, asOf: string): StatementAsOfView | null {
  const limit = Date.parse(asOf);
  let state: CsoState = null;
  let view: StatementAsOfView | null = null;
  for (const event of events) {
    if (Date.parse(event.occurredAt) > limit) break;
    state = evolveCso(state, event);
    const data = event.data as { statementId?: string };
    const status = TRANSITIONS[event.type];
    if (data.statementId !== statementId || !status) continue;
    if (event.type === 'cso.statement-submitted') {
      const d = event.data;
      const coSigners = d.coSigners ?? [];
      view = {
        statementId,
        trackingNumber: d.trackingNumber,
        csoId: event.key,
        subject: d.subject,
        body: d.body,
        language: d.language,
        ...(d.relatesTo !== undefined ? { relatesTo: d.relatesTo } : {}),
        receivedAt: d.receivedAt,
        status,
        lastChangedAt: d.receivedAt,
        history: [],
        ...(coSigners.length > 0 ? { coSigners: coSigners.map((csoId) => ({ csoId, status: 'pending' as const })) } : {}),
        ...(d.attachments !== undefined ? { attachments: d.attachments } : {}),
      };
    }
    if (!view) continue;
    if (event.type === 'cso.statement-co-signed') {
      const d = event.data;
      const signer = view.coSigners?.find((c) => c.csoId === d.coSignerId);
      if (signer) Object.assign(signer, { status: 'confirmed', at: d.coSignedAt });
      // Only the last confirmation is a transition of the statement (into the review queue).
      if (d.awaiting.length > 0) continue;
    }
    if (event.type === 'cso.statement-co-signing-declined') {
      const d = event.data;
      const signer = view.coSigners?.find((c) => c.csoId === d.coSignerId);
      if (signer) Object.assign(signer, { status: 'declined', at: d.declinedAt }, d.reason !== undefined ? { reason: d.reason } : {});
    }
    const at = (event.data as { receivedAt: string }).receivedAt;
    const transition: StatementAsOfView['history'][number] = { status, at, actor: event.actor };
    if (event.type === 'cso.statement-forwarded' && event.data.note !== undefined) {
      transition.note = event.data.note;
      view.forwardingNote = event.data.note;
    }
    if (event.type === 'cso.statement-returned') {
      transition.reasons = event.data.reasons;
      view.returnReasons = event.data.reasons;
    }
    if (event.type === 'cso.statement-submitted') transition.status = domainStatusOf(state, statementId) ?? status;
    if (event.type === 'cso.statement-co-signing-declined' && event.data.reason !== undefined) transition.reasons = event.data.reason;
    view.history.push(transition);
  }
  const record = state?.statements.get(statementId);
  if (!view || !record) return null;
  // The status is the domain's, not a second reading of the events.
  view.status = record.status;
  view.lastChangedAt = record.lastChangedAt;
  return view;
}
