import { Type, type Static } from '@sinclair/typebox';
import { AttachmentRefs } from './attachments.js';
import { chainedEventSchema, commandSchema } from './envelope.js';
import { IdempotencyKey, TrackingNumber } from './consultation.js';
import { LanguageTag, Rfc3339, Sha256Hex, Uuid } from './primitives.js';

/**
 * Accredited civil-society organisations (CSOs) and their written statements to the Standing Committee.
 *
 * One stream per CSO (key = CSO id) holds both the accreditation lifecycle and every statement of that CSO.
 * Whether a statement may be submitted depends on the accreditation at the moment of receipt; keeping both in
 * one stream means the single writer of that key decides with the accreditation state it has itself written,
 * so a revocation or renewal and a submission are totally ordered and never decided on a stale copy (which a
 * separate statements writer following a CSO topic could not promise). The cost: a statement is addressed by
 * (CSO id, statement id), so the gateway finds a statement's CSO in the read model before sending a transition.
 */

export const CsoName = Type.String({ minLength: 1, maxLength: 300 });
export const LinkBody = Type.String({ minLength: 1, maxLength: 300, description: 'The body the organisation is linked to' });
export const CsoContact = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.String({ minLength: 3, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' }),
    phone: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
  },
  { additionalProperties: false },
);
export type CsoContact = Static<typeof CsoContact>;
export const ApiKeyId = Type.String({ minLength: 1, maxLength: 64 });
export const StatementSubject = Type.String({ minLength: 1, maxLength: 500 });
export const STATEMENT_BODY_MAX_CHARS = 100_000;
export const StatementBody = Type.String({ minLength: 1, maxLength: STATEMENT_BODY_MAX_CHARS });
export const TransitionNote = Type.String({ minLength: 1, maxLength: 5_000 });
export const MAX_CO_SIGNERS = 20;
export const CoSigners = Type.Array(Uuid, { minItems: 1, maxItems: MAX_CO_SIGNERS, uniqueItems: true });

export const StatementStatus = Type.Union([
  /** Names co-signers not all of whom have confirmed yet: not in the Secretariat's review queue. */
  Type.Literal('awaiting-co-signatures'),
  /** A co-signer declined: the statement goes no further. */
  Type.Literal('co-signing-declined'),
  Type.Literal('submitted'),
  Type.Literal('under-review'),
  Type.Literal('forwarded'),
  Type.Literal('returned'),
  Type.Literal('acknowledged'),
]);
export type StatementStatus = Static<typeof StatementStatus>;

// ---- events (history of a CSO and its statements; key = CSO id) ----

export const CsoAccreditedV1 = chainedEventSchema(
  'cso.accredited',
  1,
  Type.Object({
    csoId: Uuid,
    name: CsoName,
    linkBody: LinkBody,
    contact: CsoContact,
    accreditedUntil: Rfc3339,
    accreditedAt: Rfc3339,
    /** The API key issued with the accreditation (only its hash; revoked with the accreditation). */
    keyId: ApiKeyId,
    keyHash: Sha256Hex,
  }),
);

export const CsoAccreditationRenewedV1 = chainedEventSchema(
  'cso.accreditation-renewed',
  1,
  Type.Object({ previousAccreditedUntil: Rfc3339, accreditedUntil: Rfc3339, receivedAt: Rfc3339 }),
);

export const CsoAccreditationRevokedV1 = chainedEventSchema(
  'cso.accreditation-revoked',
  1,
  Type.Object({ reason: Type.String(), revokedAt: Rfc3339, keyId: ApiKeyId }),
);

export const StatementSubmittedV1 = chainedEventSchema(
  'cso.statement-submitted',
  1,
  Type.Object({
    statementId: Uuid,
    trackingNumber: TrackingNumber,
    subject: Type.String(),
    body: Type.String(),
    language: LanguageTag,
    relatesTo: Type.Optional(Uuid),
    bodyHash: Sha256Hex,
    idempotencyKey: IdempotencyKey,
    receivedAt: Rfc3339,
    /** Accredited organisations that must each confirm before the statement enters the review queue. */
    coSigners: Type.Optional(CoSigners),
    /** Files attached to the statement, by reference (see attachments.ts). */
    attachments: Type.Optional(AttachmentRefs),
  }),
);

export const StatementReviewStartedV1 = chainedEventSchema(
  'cso.statement-review-started',
  1,
  Type.Object({ statementId: Uuid, receivedAt: Rfc3339 }),
);

export const StatementForwardedV1 = chainedEventSchema(
  'cso.statement-forwarded',
  1,
  Type.Object({ statementId: Uuid, note: Type.Optional(Type.String()), receivedAt: Rfc3339 }),
);

export const StatementReturnedV1 = chainedEventSchema(
  'cso.statement-returned',
  1,
  Type.Object({ statementId: Uuid, reasons: Type.String(), receivedAt: Rfc3339 }),
);

export const StatementAcknowledgedV1 = chainedEventSchema(
  'cso.statement-acknowledged',
  1,
  Type.Object({ statementId: Uuid, receivedAt: Rfc3339 }),
);

// ---- co-signing (see docs/architecture.md, "Co-signed statements") ----

/** On the co-signer's own stream (key = co-signer): it confirmed, decided against its own accreditation. */
export const CoSignatureGivenV1 = chainedEventSchema(
  'cso.co-signature-given',
  1,
  Type.Object({ statementId: Uuid, leadCsoId: Uuid, receivedAt: Rfc3339 }),
);

/** On the co-signer's own stream: it declined to co-sign. */
export const CoSignatureRefusedV1 = chainedEventSchema(
  'cso.co-signature-refused',
  1,
  Type.Object({ statementId: Uuid, leadCsoId: Uuid, reason: Type.Optional(Type.String()), receivedAt: Rfc3339 }),
);

/**
 * On the lead organisation's stream: a co-signer's confirmation (its event `sourceEventId` on its own stream)
 * is recorded; `awaiting` are the co-signers still to confirm (empty: the statement enters the review queue).
 */
export const StatementCoSignedV1 = chainedEventSchema(
  'cso.statement-co-signed',
  1,
  Type.Object({
    statementId: Uuid,
    coSignerId: Uuid,
    coSignedAt: Rfc3339,
    sourceEventId: Uuid,
    awaiting: Type.Array(Uuid),
    receivedAt: Rfc3339,
  }),
);

/** On the lead organisation's stream: a co-signer declined; the statement goes no further. */
export const StatementCoSigningDeclinedV1 = chainedEventSchema(
  'cso.statement-co-signing-declined',
  1,
  Type.Object({
    statementId: Uuid,
    coSignerId: Uuid,
    declinedAt: Rfc3339,
    reason: Type.Optional(Type.String()),
    sourceEventId: Uuid,
    receivedAt: Rfc3339,
  }),
);

export const CsoEvent = Type.Union([
  CsoAccreditedV1,
  CsoAccreditationRenewedV1,
  CsoAccreditationRevokedV1,
  StatementSubmittedV1,
  StatementReviewStartedV1,
  StatementForwardedV1,
  StatementReturnedV1,
  StatementAcknowledgedV1,
  CoSignatureGivenV1,
  CoSignatureRefusedV1,
  StatementCoSignedV1,
  StatementCoSigningDeclinedV1,
]);
export type CsoEvent = Static<typeof CsoEvent>;
export type CsoEventType = CsoEvent['type'];
export type CsoEventOf<T extends CsoEventType> = Extract<CsoEvent, { type: T }>;

// ---- commands (to the single writer of the CSO stream; key = CSO id) ----

export const AccreditCsoV1 = commandSchema(
  'cso.accredit',
  1,
  Type.Object({
    name: CsoName,
    linkBody: LinkBody,
    contact: CsoContact,
    accreditedUntil: Rfc3339,
    /** The gateway made the secret and returns it once; only its hash travels. */
    keyId: ApiKeyId,
    keyHash: Sha256Hex,
  }),
);

export const RenewCsoAccreditationV1 = commandSchema('cso.renew-accreditation', 1, Type.Object({ accreditedUntil: Rfc3339 }));

export const RevokeCsoAccreditationV1 = commandSchema(
  'cso.revoke-accreditation',
  1,
  Type.Object({ reason: Type.String({ minLength: 1, maxLength: 2_000 }) }),
);

export const SubmitStatementV1 = commandSchema(
  'cso.submit-statement',
  1,
  Type.Object({
    statementId: Uuid,
    idempotencyKey: IdempotencyKey,
    subject: StatementSubject,
    body: StatementBody,
    language: LanguageTag,
    relatesTo: Type.Optional(Uuid),
    bodyHash: Sha256Hex,
    coSigners: Type.Optional(CoSigners),
    attachments: Type.Optional(AttachmentRefs),
  }),
);

export const ReviewStatementV1 = commandSchema('cso.review-statement', 1, Type.Object({ statementId: Uuid }));

export const ForwardStatementV1 = commandSchema(
  'cso.forward-statement',
  1,
  Type.Object({ statementId: Uuid, note: Type.Optional(TransitionNote) }),
);

export const ReturnStatementV1 = commandSchema(
  'cso.return-statement',
  1,
  Type.Object({ statementId: Uuid, reasons: TransitionNote }),
);

export const AcknowledgeStatementV1 = commandSchema('cso.acknowledge-statement', 1, Type.Object({ statementId: Uuid }));

/** To the co-signer's stream (key = co-signer): confirm co-signing the lead organisation's statement. */
export const CoSignStatementV1 = commandSchema('cso.co-sign-statement', 1, Type.Object({ statementId: Uuid, leadCsoId: Uuid }));

/** To the co-signer's stream: decline co-signing it. */
export const RefuseCoSignatureV1 = commandSchema(
  'cso.refuse-co-signature',
  1,
  Type.Object({ statementId: Uuid, leadCsoId: Uuid, reason: Type.Optional(TransitionNote) }),
);

/**
 * To the lead's stream, sent by the co-signer's writer in the same Kafka transaction as the co-signer's event:
 * record that confirmation (or refusal) on the statement.
 */
export const RecordCoSignatureV1 = commandSchema(
  'cso.record-co-signature',
  1,
  Type.Object({
    statementId: Uuid,
    coSignerId: Uuid,
    decision: Type.Union([Type.Literal('confirmed'), Type.Literal('declined')]),
    at: Rfc3339,
    reason: Type.Optional(Type.String()),
    sourceEventId: Uuid,
  }),
);

export const CsoCommand = Type.Union([
  AccreditCsoV1,
  RenewCsoAccreditationV1,
  RevokeCsoAccreditationV1,
  SubmitStatementV1,
  ReviewStatementV1,
  ForwardStatementV1,
  ReturnStatementV1,
  AcknowledgeStatementV1,
  CoSignStatementV1,
  RefuseCoSignatureV1,
  RecordCoSignatureV1,
]);
export type CsoCommand = Static<typeof CsoCommand>;
export type CsoCommandType = CsoCommand['type'];
export type CsoCommandOf<T extends CsoCommandType> = Extract<CsoCommand, { type: T }>;
