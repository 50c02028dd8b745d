import { Type, type Static } from '@sinclair/typebox';
import { AttachmentInputs } from '../schemas.js';
import {
  Actor,
  AttachmentRef,
  CsoContact,
  MAX_CO_SIGNERS,
  CsoName,
  LanguageTag,
  LinkBody,
  Rfc3339,
  StatementBody,
  StatementStatus,
  StatementSubject,
  TrackingNumber,
  TransitionNote,
  Uuid,
} from '@consult/contracts';

/** HTTP schemas of CSOs and their statements; closed request bodies, reusing the contracts' small pieces. */

export const CsoStatusSchema = Type.Union([Type.Literal('accredited'), Type.Literal('lapsed'), Type.Literal('revoked')]);

export const AccreditCsoBody = Type.Object(
  { name: CsoName, linkBody: LinkBody, accreditedUntil: Rfc3339, contact: CsoContact },
  { additionalProperties: false },
);
export type AccreditCsoBody = Static<typeof AccreditCsoBody>;

export const RenewalBody = Type.Object({ accreditedUntil: Rfc3339 }, { additionalProperties: false });
export const RevocationBody = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 2_000 }) }, { additionalProperties: false });

export const CsoResponse = Type.Object({
  id: Uuid,
  name: Type.String(),
  linkBody: Type.String(),
  accreditedUntil: Rfc3339,
  contact: CsoContact,
  status: CsoStatusSchema,
  accreditedAt: Type.Optional(Rfc3339),
  renewals: Type.Optional(Type.Integer()),
  revokedAt: Type.Optional(Rfc3339),
  revocationReason: Type.Optional(Type.String()),
  version: Type.Optional(Type.Integer()),
  apiKey: Type.Optional(
    Type.String({ description: "The organisation's API key: returned once, on accreditation, and never stored" }),
  ),
});

export const CsoList = Type.Object({
  items: Type.Array(CsoResponse),
  total: Type.Integer(),
  offset: Type.Integer(),
  limit: Type.Integer(),
});

export const Paging = {
  limit: Type.Optional(Type.String({ pattern: '^(?:[1-9]\\d?|1\\d\\d|200)$', description: '1 to 200, default 50' })),
  offset: Type.Optional(Type.String({ pattern: '^\\d{1,9}$' })),
};
export const ListCsosQuery = Type.Object(Paging, { additionalProperties: false });

export const SubmitStatementBody = Type.Object(
  {
    subject: StatementSubject,
    body: StatementBody,
    language: LanguageTag,
    relatesTo: Type.Optional(Uuid),
    coSigners: Type.Optional(
      Type.Array(Uuid, {
        minItems: 1,
        maxItems: MAX_CO_SIGNERS,
        uniqueItems: true,
        description: 'Accredited organisations that must each confirm (POST …/co-signature) before the statement enters the review queue',
      }),
    ),
    attachments: Type.Optional(AttachmentInputs),
  },
  { additionalProperties: false },
);
export type SubmitStatementBody = Static<typeof SubmitStatementBody>;

export const StatementReceipt = Type.Object({
  statementId: Uuid,
  trackingNumber: TrackingNumber,
  receivedAt: Rfc3339,
  csoId: Uuid,
  status: Type.Union([Type.Literal('submitted'), Type.Literal('awaiting-co-signatures')]),
});

export const TransitionReceipt = Type.Object({
  statementId: Uuid,
  trackingNumber: TrackingNumber,
  csoId: Uuid,
  status: StatementStatus,
  changedAt: Rfc3339,
});

export const ForwardingBody = Type.Object({ note: Type.Optional(TransitionNote) }, { additionalProperties: false });
export const ReturnBody = Type.Object({ reasons: TransitionNote }, { additionalProperties: false });

export const StatementTransitionSchema = Type.Object({
  status: StatementStatus,
  at: Rfc3339,
  actor: Actor,
  note: Type.Optional(Type.String()),
  reasons: Type.Optional(Type.String()),
});

export const CoSignerSchema = Type.Object({
  csoId: Uuid,
  status: Type.Union([Type.Literal('pending'), Type.Literal('confirmed'), Type.Literal('declined')]),
  at: Type.Optional(Rfc3339),
  reason: Type.Optional(Type.String()),
  blocked: Type.Optional(Type.String({ description: 'Why a pending co-signer cannot confirm: its accreditation lapsed or was revoked' })),
});

export const CoSignatureRefusalBody = Type.Object({ reason: Type.Optional(TransitionNote) }, { additionalProperties: false });

export const StatementResponse = Type.Object({
  statementId: Uuid,
  trackingNumber: TrackingNumber,
  csoId: Uuid,
  subject: Type.String(),
  body: Type.String(),
  language: LanguageTag,
  relatesTo: Type.Optional(Uuid),
  receivedAt: Rfc3339,
  status: StatementStatus,
  lastChangedAt: Rfc3339,
  forwardingNote: Type.Optional(Type.String()),
  returnReasons: Type.Optional(Type.String()),
  history: Type.Array(StatementTransitionSchema),
  coSigners: Type.Optional(Type.Array(CoSignerSchema)),
  attachments: Type.Optional(Type.Array(AttachmentRef)),
  asOf: Type.Optional(Rfc3339),
});

export const GetStatementQuery = Type.Object(
  { asOf: Type.Optional(Rfc3339) },
  { additionalProperties: false },
);

export const StatementList = Type.Object({
  items: Type.Array(StatementResponse),
  total: Type.Integer(),
  offset: Type.Integer(),
  limit: Type.Integer(),
});

export const ListStatementsQuery = Type.Object(
  {
    queue: Type.Optional(Type.Literal('review', { description: "The secretariat's review queue: submitted and under review, oldest first" })),
    ...Paging,
  },
  { additionalProperties: false },
);
