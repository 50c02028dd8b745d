import { Type, type Static } from '@sinclair/typebox';
import { chainedEventSchema, commandSchema } from './envelope.js';
import { ConsultationDocument, MemberStateCode, Reference, Rfc3339 } from './primitives.js';

/**
 * Diplomatic practice (issue 13): nil returns, the silence procedure, corrigenda and revisions, the original
 * language and the member states' time zones. Old event types gain only optional fields (absent means the
 * behaviour before: comment procedure, document version 1, the first document is the original); the closing
 * decision changes shape, so it is `consultation.closed` version 2 with an upcaster from version 1.
 */

export const Procedure = Type.Union([Type.Literal('comments'), Type.Literal('silence')], {
  description:
    "'comments' (default): comments by the deadline. 'silence': the text is deemed adopted at the deadline unless an addressee breaks silence before it",
});
export type Procedure = Static<typeof Procedure>;

/** An IANA time-zone name such as Asia/Almaty (checked against the runtime's zone data where it is given). */
export const TimeZoneName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z][A-Za-z0-9_+\\-]*(/[A-Za-z0-9_+\\-]+)*$' });

/** Each addressee's IANA zone, recorded when the consultation is circulated so every replay agrees. */
export const AddresseeTimeZones = Type.Record(Type.String({ pattern: '^[A-Z]{3}$' }), TimeZoneName);

/** A deadline as one place sees it: the zone, the local date-time with its offset and a sentence for people. */
export const LocalDeadline = Type.Object({
  timeZone: TimeZoneName,
  local: Type.String({ description: 'Local date-time with its UTC offset, e.g. 2023-03-20T18:00:00+06:00' }),
  text: Type.String({ description: 'e.g. "20 March 2023, 18:00 Astana time"' }),
});
export type LocalDeadline = Static<typeof LocalDeadline>;

export const DocumentVersionKind = Type.Union([Type.Literal('original'), Type.Literal('corrigendum'), Type.Literal('revision')]);
export type DocumentVersionKind = Static<typeof DocumentVersionKind>;

export const SilenceBreak = Type.Object({ memberState: MemberStateCode, reason: Type.String(), receivedAt: Rfc3339 });
export type SilenceBreak = Static<typeof SilenceBreak>;

// ---- events ----

/** An addressee answered "no comments" (a nil return): it has responded, but commented nothing. */
export const NoCommentsSubmittedV1 = chainedEventSchema(
  'consultation.no-comments-submitted',
  1,
  Type.Object({
    memberState: MemberStateCode,
    receivedAt: Rfc3339,
    /** The document version in force when it was received. */
    documentVersion: Type.Integer({ minimum: 1 }),
  }),
);

/** Under silence procedure, an addressee objected before the deadline: the text will not be deemed adopted. */
export const SilenceBrokenV1 = chainedEventSchema(
  'consultation.silence-broken',
  1,
  Type.Object({
    memberState: MemberStateCode,
    reason: Type.String(),
    receivedAt: Rfc3339,
    documentVersion: Type.Integer({ minimum: 1 }),
  }),
);

/**
 * The Secretariat issued a corrigendum (`IO/218/Corr.1`) or a revised text (`IO/218/Rev.1`): a new version
 * of the consultation's documents. A revision resets the deadline or the silence only when the Secretariat
 * said so (`resetsDeadline`, `resetsSilence`); a new deadline is also recorded as `deadline-extended`.
 */
export const DocumentVersionIssuedV1 = chainedEventSchema(
  'consultation.document-version-issued',
  1,
  Type.Object({
    version: Type.Integer({ minimum: 2 }),
    kind: Type.Union([Type.Literal('corrigendum'), Type.Literal('revision')]),
    /** Number within its kind: Corr.1, Corr.2, Rev.1 … */
    number: Type.Integer({ minimum: 1 }),
    symbol: Reference,
    documents: Type.Array(ConsultationDocument),
    note: Type.Optional(Type.String()),
    issuedAt: Rfc3339,
    resetsDeadline: Type.Boolean(),
    resetsSilence: Type.Boolean(),
    /** The deadline in force after this version (the new one when it resets the deadline). */
    deadline: Rfc3339,
    idempotencyKey: Type.Optional(Type.String()),
  }),
);

/**
 * The closing decision, version 2: who commented, who answered "no comments", who stayed silent, and under
 * silence procedure the outcome (`deemed-adopted`, or `silence-broken` with who broke it and when).
 */
export const ConsultationClosedV2 = chainedEventSchema(
  'consultation.closed',
  2,
  Type.Object({
    closedAt: Rfc3339,
    deadline: Rfc3339,
    procedure: Procedure,
    /** Addressees with at least one comment (not withdrawn). */
    responded: Type.Array(MemberStateCode),
    /** Addressees whose answer was "no comments". */
    noComments: Type.Array(MemberStateCode),
    /** Addressees that answered nothing. */
    pending: Type.Array(MemberStateCode),
    silence: Type.Optional(
      Type.Object({
        outcome: Type.Union([Type.Literal('deemed-adopted'), Type.Literal('silence-broken')]),
        brokenBy: Type.Array(SilenceBreak),
      }),
    ),
    documentVersion: Type.Integer({ minimum: 1 }),
  }),
);

/**
 * The receipt-time rule after the closing: an addressee broke silence in time (the gateway received it at or
 * before the deadline), but the break reached the single writer only after the closing had recorded
 * `deemed-adopted` (a broker restart, a retry, the closing's grace running out). The writer records the break
 * (`consultation.silence-broken`) and, in the same decision, this revision of the outcome. A new event type, so
 * the closing event is never rewritten and stays what was decided then: the outcome in force is the closing's
 * `silence`, replaced by the latest revision's (`outcome`, `brokenBy`). Its audience is the closing's.
 */
export const SilenceOutcomeRevisedV1 = chainedEventSchema(
  'consultation.silence-outcome-revised',
  1,
  Type.Object({
    previousOutcome: Type.Literal('deemed-adopted'),
    outcome: Type.Literal('silence-broken'),
    /** Every break that counts now, as the closing's `silence.brokenBy` would have listed them. */
    brokenBy: Type.Array(SilenceBreak),
    /** The break that revised it: who, why, and when the gateway received it (at or before the deadline). */
    memberState: MemberStateCode,
    reason: Type.String(),
    receivedAt: Rfc3339,
    /** Why the closing missed it. */
    cause: Type.Literal('processed-after-closing'),
    /** The deadline the break was on time for, and when the closing it revises was decided. */
    deadline: Rfc3339,
    closedAt: Rfc3339,
    documentVersion: Type.Integer({ minimum: 1 }),
  }),
);

// ---- commands ----

export const SubmitNoCommentsV1 = commandSchema('consultation.submit-no-comments', 1, Type.Object({ memberState: MemberStateCode }));

export const BreakSilenceV1 = commandSchema(
  'consultation.break-silence',
  1,
  Type.Object({ memberState: MemberStateCode, reason: Type.String({ minLength: 1, maxLength: 2_000 }) }),
);

export const IssueDocumentVersionV1 = commandSchema(
  'consultation.issue-document-version',
  1,
  Type.Object({
    kind: Type.Union([Type.Literal('corrigendum'), Type.Literal('revision')]),
    documents: Type.Array(ConsultationDocument, { minItems: 1, maxItems: 50 }),
    note: Type.Optional(Type.String({ maxLength: 2_000 })),
    /** A new deadline: the deadline runs again from this version (revisions only). */
    deadline: Type.Optional(Rfc3339),
    /** Under silence procedure: earlier breaks no longer count; silence runs again for this version. */
    resetSilence: Type.Optional(Type.Boolean()),
    idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  }),
);
