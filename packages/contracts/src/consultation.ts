import { Type, type Static } from '@sinclair/typebox';
import { AttachmentRefs } from './attachments.js';
import { chainedEventSchema, commandSchema } from './envelope.js';
import {
  AddresseeTimeZones,
  BreakSilenceV1,
  ConsultationClosedV2,
  DocumentVersionIssuedV1,
  IssueDocumentVersionV1,
  LocalDeadline,
  NoCommentsSubmittedV1,
  Procedure,
  SilenceBrokenV1,
  SilenceOutcomeRevisedV1,
  SubmitNoCommentsV1,
  TimeZoneName,
} from './diplomatic-practice.js';
import {
  CommentVisibility,
  ConsultationDocument,
  LanguageTag,
  MemberStateCode,
  Reference,
  Rfc3339,
  Sha256Hex,
  Uuid,
} from './primitives.js';

export const COMMENT_BODY_MAX_CHARS = 100_000;
export const IdempotencyKey = Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7E]+$' });
export const CommentBody = Type.String({ minLength: 1, maxLength: COMMENT_BODY_MAX_CHARS });
export const TrackingNumber = Type.String({ minLength: 1 });
/** Offsets before the deadline at which pending addressees are reminded, in seconds. */
export const ReminderOffsets = Type.Array(Type.Integer({ minimum: 1, maximum: 366 * 86_400 }), {
  maxItems: 10,
  uniqueItems: true,
});
export const DEFAULT_REMINDER_OFFSETS_SECONDS = [7 * 86_400, 86_400, 3_600] as const;

// ---- events (history of a consultation; key = consultation id) ----

export const ConsultationOpenedV1 = chainedEventSchema(
  'consultation.opened',
  1,
  Type.Object({
    consultationId: Uuid,
    reference: Reference,
    title: Type.String(),
    summary: Type.Optional(Type.String()),
    documents: Type.Array(ConsultationDocument),
    addressees: Type.Array(MemberStateCode),
    deadline: Rfc3339,
    reminderOffsetsSeconds: ReminderOffsets,
    commentVisibility: CommentVisibility,
    openedAt: Rfc3339,
    // Optional since issue 13 (absent: comment procedure, zones unknown → UTC).
    procedure: Type.Optional(Procedure),
    timeZones: Type.Optional(AddresseeTimeZones),
    secretariatTimeZone: Type.Optional(TimeZoneName),
  }),
);

export const CommentSubmittedV1 = chainedEventSchema(
  'consultation.comment-submitted',
  1,
  Type.Object({
    commentId: Uuid,
    trackingNumber: TrackingNumber,
    memberState: MemberStateCode,
    body: Type.String(),
    language: LanguageTag,
    bodyHash: Sha256Hex,
    idempotencyKey: IdempotencyKey,
    receivedAt: Rfc3339,
    /** The document version in force when it was received (absent: version 1). */
    documentVersion: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Files attached to the comment, by reference (see attachments.ts). */
    attachments: Type.Optional(AttachmentRefs),
  }),
);

export const CommentAmendedV1 = chainedEventSchema(
  'consultation.comment-amended',
  1,
  Type.Object({
    commentId: Uuid,
    memberState: MemberStateCode,
    revision: Type.Integer({ minimum: 2 }),
    body: Type.String(),
    language: LanguageTag,
    bodyHash: Sha256Hex,
    receivedAt: Rfc3339,
    documentVersion: Type.Optional(Type.Integer({ minimum: 1 })),
  }),
);

export const CommentWithdrawnV1 = chainedEventSchema(
  'consultation.comment-withdrawn',
  1,
  Type.Object({ commentId: Uuid, memberState: MemberStateCode, receivedAt: Rfc3339 }),
);

export const DeadlineExtendedV1 = chainedEventSchema(
  'consultation.deadline-extended',
  1,
  Type.Object({
    previousDeadline: Rfc3339,
    deadline: Rfc3339,
    reason: Type.String(),
    receivedAt: Rfc3339,
  }),
);

/** Superseded by version 2 (diplomatic-practice.ts); decoding upcasts it (codec.ts). */
export const ConsultationClosedV1 = chainedEventSchema(
  'consultation.closed',
  1,
  Type.Object({
    closedAt: Rfc3339,
    deadline: Rfc3339,
    responded: Type.Array(MemberStateCode),
    pending: Type.Array(MemberStateCode),
  }),
);

/**
 * A reminder point (deadline minus offset) has passed. Recorded once per consultation, deadline and offset by
 * the single writer, whatever the scheduler retries; `pending` are the addressees without a comment then.
 */
export const ReminderIssuedV1 = chainedEventSchema(
  'consultation.reminder-issued',
  1,
  Type.Object({
    offsetSeconds: Type.Integer({ minimum: 1 }),
    deadline: Rfc3339,
    dueAt: Rfc3339,
    pending: Type.Array(MemberStateCode),
    /** The deadline in each pending addressee's own zone ("20 March 2023, 18:00 Astana time"). */
    localDeadlines: Type.Optional(Type.Record(Type.String(), LocalDeadline)),
  }),
);

export const ConsultationEvent = Type.Union([
  ConsultationOpenedV1,
  CommentSubmittedV1,
  CommentAmendedV1,
  CommentWithdrawnV1,
  DeadlineExtendedV1,
  ConsultationClosedV2,
  ReminderIssuedV1,
  NoCommentsSubmittedV1,
  SilenceBrokenV1,
  DocumentVersionIssuedV1,
  SilenceOutcomeRevisedV1,
]);
export type ConsultationEvent = Static<typeof ConsultationEvent>;
export type ConsultationEventType = ConsultationEvent['type'];
export type ConsultationEventOf<T extends ConsultationEventType> = Extract<ConsultationEvent, { type: T }>;

// ---- commands (to the single writer; key = consultation id) ----

export const OpenConsultationV1 = commandSchema(
  'consultation.open',
  1,
  Type.Object({
    reference: Reference,
    title: Type.String({ minLength: 1, maxLength: 500 }),
    summary: Type.Optional(Type.String({ maxLength: 10_000 })),
    documents: Type.Array(ConsultationDocument, { minItems: 1, maxItems: 50 }),
    addressees: Type.Array(MemberStateCode, { minItems: 1, maxItems: 250 }),
    deadline: Rfc3339,
    reminderOffsetsSeconds: ReminderOffsets,
    commentVisibility: CommentVisibility,
    procedure: Type.Optional(Procedure),
    timeZones: Type.Optional(AddresseeTimeZones),
    secretariatTimeZone: Type.Optional(TimeZoneName),
  }),
);

export const SubmitCommentV1 = commandSchema(
  'consultation.submit-comment',
  1,
  Type.Object({
    commentId: Uuid,
    memberState: MemberStateCode,
    idempotencyKey: IdempotencyKey,
    body: CommentBody,
    language: LanguageTag,
    bodyHash: Sha256Hex,
    attachments: Type.Optional(AttachmentRefs),
  }),
);

export const AmendCommentV1 = commandSchema(
  'consultation.amend-comment',
  1,
  Type.Object({
    commentId: Uuid,
    memberState: MemberStateCode,
    body: CommentBody,
    language: LanguageTag,
    bodyHash: Sha256Hex,
  }),
);

export const WithdrawCommentV1 = commandSchema(
  'consultation.withdraw-comment',
  1,
  Type.Object({ commentId: Uuid, memberState: MemberStateCode }),
);

export const ExtendDeadlineV1 = commandSchema(
  'consultation.extend-deadline',
  1,
  Type.Object({ deadline: Rfc3339, reason: Type.String({ minLength: 1, maxLength: 2_000 }) }),
);

/** Sent by the deadline service once the deadline (plus the in-flight grace) has passed. */
export const CloseConsultationV1 = commandSchema('consultation.close', 1, Type.Object({}));

/** Sent by the deadline service when a reminder point is due; `deadline` is the one it was scheduled for. */
export const IssueReminderV1 = commandSchema(
  'consultation.issue-reminder',
  1,
  Type.Object({ offsetSeconds: Type.Integer({ minimum: 1 }), deadline: Rfc3339 }),
);

export const ConsultationCommand = Type.Union([
  OpenConsultationV1,
  SubmitCommentV1,
  AmendCommentV1,
  WithdrawCommentV1,
  ExtendDeadlineV1,
  CloseConsultationV1,
  IssueReminderV1,
  SubmitNoCommentsV1,
  BreakSilenceV1,
  IssueDocumentVersionV1,
]);
export type ConsultationCommand = Static<typeof ConsultationCommand>;
export type ConsultationCommandType = ConsultationCommand['type'];
export type ConsultationCommandOf<T extends ConsultationCommandType> = Extract<ConsultationCommand, { type: T }>;
