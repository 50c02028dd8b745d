import { Type, type Static } from '@sinclair/typebox';
import {
  AttachmentFilename,
  AttachmentRef,
  CommentBody,
  CommentVisibility,
  ConsultationDocument,
  IdempotencyKey,
  LanguageTag,
  MAX_ATTACHMENTS,
  MemberStateCode,
  Procedure,
  Reference,
  ReminderOffsets,
  Rfc3339,
  TrackingNumber,
  Uuid,
} from '@consult/contracts';
import { DeadlineInput, PracticeViewFields } from './routes/diplomatic-practice-schemas.js';

/**
 * The HTTP contract member-state systems integrate against. It reuses the contracts' small pieces (ids, codes,
 * dates) but not the event shapes, so the API and the events can evolve apart. Request bodies are closed:
 * an unknown field is a 400, never silently dropped.
 */

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    code: Type.String(),
  },
  { additionalProperties: true, $id: 'Problem' },
);

export const IdParams = Type.Object({ id: Uuid });
export const CommentParams = Type.Object({ id: Uuid, commentId: Uuid });

export const CreateConsultationBody = Type.Object(
  {
    reference: Reference,
    title: Type.String({ minLength: 1, maxLength: 500 }),
    summary: Type.Optional(Type.String({ maxLength: 10_000 })),
    documents: Type.Array(ConsultationDocument, { minItems: 1, maxItems: 50 }),
    addressees: Type.Array(MemberStateCode, { minItems: 1, maxItems: 250, uniqueItems: true }),
    deadline: DeadlineInput,
    reminderOffsetsSeconds: Type.Optional(ReminderOffsets),
    commentVisibility: Type.Optional(CommentVisibility),
    procedure: Type.Optional(Procedure),
  },
  { additionalProperties: false },
);
export type CreateConsultationBody = Static<typeof CreateConsultationBody>;

const ResponseStatus = Type.Union([Type.Literal('commented'), Type.Literal('no-comments'), Type.Literal('pending')]);

export const ConsultationResponse = Type.Object({
  id: Uuid,
  reference: Type.String(),
  title: Type.String(),
  summary: Type.Optional(Type.String()),
  documents: Type.Array(ConsultationDocument),
  status: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
  deadline: Rfc3339,
  openedAt: Rfc3339,
  closedAt: Type.Union([Rfc3339, Type.Null()]),
  addressees: Type.Array(MemberStateCode),
  responses: Type.Record(Type.String(), ResponseStatus),
  commentCount: Type.Integer(),
  commentVisibility: CommentVisibility,
  reminderOffsetsSeconds: Type.Array(Type.Integer()),
  deadlineExtensions: Type.Integer(),
  version: Type.Integer({ description: 'Sequence of the last event reflected' }),
  asOf: Type.Optional(Rfc3339),
  ...PracticeViewFields,
});

export const ConsultationList = Type.Object({
  items: Type.Array(ConsultationResponse),
  total: Type.Integer(),
  offset: Type.Integer(),
  limit: Type.Integer(),
});

export const ListConsultationsQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed')])),
    limit: Type.Optional(Type.String({ pattern: '^(?:[1-9]\\d?|1\\d\\d|200)$', description: '1 to 200, default 50' })),
    offset: Type.Optional(Type.String({ pattern: '^\\d{1,9}$' })),
  },
  { additionalProperties: false },
);

export const GetConsultationQuery = Type.Object(
  { asOf: Type.Optional(Rfc3339) },
  { additionalProperties: false },
);

export const DeadlineExtensionBody = Type.Object(
  { deadline: DeadlineInput, reason: Type.String({ minLength: 1, maxLength: 2_000 }) },
  { additionalProperties: false },
);

export const DeadlineExtensionResponse = Type.Object({
  id: Uuid,
  previousDeadline: Rfc3339,
  deadline: Rfc3339,
});

export const CommentBodySchema = Type.Object({ body: CommentBody, language: LanguageTag }, { additionalProperties: false });
export type CommentBodySchema = Static<typeof CommentBodySchema>;

/** How a request body names an uploaded file: by its SHA-256 (hex), with the name to offer on download. */
export const AttachmentInput = Type.Object(
  {
    digest: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 (hex) from POST /v1/attachments' }),
    filename: Type.Optional(AttachmentFilename),
  },
  { additionalProperties: false },
);
export type AttachmentInput = Static<typeof AttachmentInput>;
export const AttachmentInputs = Type.Array(AttachmentInput, { minItems: 1, maxItems: MAX_ATTACHMENTS });

/** A new comment may carry files (uploaded first); amendments change the text only. */
export const NewCommentBody = Type.Object(
  { body: CommentBody, language: LanguageTag, attachments: Type.Optional(AttachmentInputs) },
  { additionalProperties: false },
);
export type NewCommentBody = Static<typeof NewCommentBody>;

export const IdempotencyHeaders = Type.Object({ 'idempotency-key': Type.Optional(IdempotencyKey) });

export const CommentReceipt = Type.Object({
  commentId: Uuid,
  trackingNumber: TrackingNumber,
  receivedAt: Rfc3339,
  memberState: MemberStateCode,
  consultationId: Uuid,
  revision: Type.Optional(Type.Integer()),
  withdrawnAt: Type.Optional(Rfc3339),
  status: Type.Optional(Type.String()),
});

export const CommentRevision = Type.Object({
  revision: Type.Integer(),
  body: Type.String(),
  language: LanguageTag,
  receivedAt: Rfc3339,
  documentVersion: Type.Optional(Type.Integer()),
});

export const CommentResponse = Type.Object({
  commentId: Uuid,
  consultationId: Uuid,
  trackingNumber: TrackingNumber,
  memberState: MemberStateCode,
  body: Type.String(),
  language: LanguageTag,
  receivedAt: Rfc3339,
  revision: Type.Integer(),
  status: Type.Union([Type.Literal('active'), Type.Literal('withdrawn')]),
  lastChangedAt: Rfc3339,
  withdrawnAt: Type.Optional(Rfc3339),
  documentVersion: Type.Optional(Type.Integer({ description: 'The document version the comment answered' })),
  documentSymbol: Type.Optional(Type.String({ description: 'Its symbol, e.g. IO/218 or IO/218/Rev.1' })),
  addressesSupersededVersion: Type.Optional(
    Type.Boolean({ description: 'True when a corrigendum or revision was issued after the version it answered' }),
  ),
  revisions: Type.Array(CommentRevision),
  attachments: Type.Optional(Type.Array(AttachmentRef)),
});

export const CommentList = Type.Object({
  items: Type.Array(CommentResponse),
  next: Type.Union([Type.String(), Type.Null()], { description: 'Cursor for the next page (pass as ?after=)' }),
});

export const ListCommentsQuery = Type.Object(
  {
    memberState: Type.Optional(MemberStateCode),
    limit: Type.Optional(Type.String({ pattern: '^(?:[1-9]\\d{0,2}|1000)$', description: '1 to 1000, default 100' })),
    after: Type.Optional(Type.String({ pattern: '^\\d{1,12}$' })),
  },
  { additionalProperties: false },
);

export const Pending = Type.Object({
  status: Type.Literal('pending'),
  commandId: Uuid,
  statusUrl: Type.String(),
});

export const CommandStatusParams = Type.Object({ commandId: Uuid });
export const CommandStatus = Type.Object({
  commandId: Uuid,
  status: Type.Union([Type.Literal('pending'), Type.Literal('accepted'), Type.Literal('rejected')]),
  decidedAt: Type.Optional(Rfc3339),
  receipt: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  problem: Type.Optional(Problem),
});
