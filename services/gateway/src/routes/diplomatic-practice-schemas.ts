import { Type } from '@sinclair/typebox';
import {
  ConsultationDocument,
  DocumentVersionKind,
  LocalDeadline,
  MemberStateCode,
  Rfc3339,
  SilenceBreak,
  Uuid,
} from '@consult/contracts';

/** HTTP schemas of diplomatic practice: nil returns, silence, document versions, languages and zones. */

/** A deadline as an instant (RFC 3339), or a local date meaning the end of that day in the Secretariat's zone. */
export const DeadlineInput = Type.Union(
  [Rfc3339, Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: "A date: the end of that day in the Secretariat's time zone" })],
  { description: "RFC 3339 date-time with an offset, or a date (2023-03-20) meaning the end of that day in the Secretariat's zone" },
);

export const NoCommentsReceipt = Type.Object({
  consultationId: Uuid,
  memberState: MemberStateCode,
  status: Type.Literal('no-comments'),
  receivedAt: Rfc3339,
});

export const SilenceBreakBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 2_000 }) },
  { additionalProperties: false },
);

export const SilenceBreakReceipt = Type.Object({
  consultationId: Uuid,
  memberState: MemberStateCode,
  reason: Type.String(),
  receivedAt: Rfc3339,
  status: Type.Literal('silence-broken'),
});

export const DocumentVersionBody = Type.Object(
  {
    kind: Type.Union([Type.Literal('corrigendum'), Type.Literal('revision')]),
    documents: Type.Array(ConsultationDocument, { minItems: 1, maxItems: 50 }),
    note: Type.Optional(Type.String({ maxLength: 2_000 })),
    deadline: Type.Optional(DeadlineInput),
    resetSilence: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const DocumentVersionReceipt = Type.Object({
  consultationId: Uuid,
  version: Type.Integer(),
  kind: DocumentVersionKind,
  number: Type.Integer(),
  symbol: Type.String(),
  issuedAt: Rfc3339,
  resetsDeadline: Type.Boolean(),
  resetsSilence: Type.Boolean(),
  deadline: Rfc3339,
});

export const DocumentVersionView = Type.Object({
  version: Type.Integer(),
  kind: DocumentVersionKind,
  number: Type.Integer(),
  symbol: Type.String(),
  issuedAt: Rfc3339,
  documents: Type.Array(ConsultationDocument),
  resetsDeadline: Type.Boolean(),
  resetsSilence: Type.Boolean(),
  note: Type.Optional(Type.String()),
  title: Type.Optional(Type.String({ description: 'The title in the negotiated language' })),
});

/** Fields the consultation view gained with diplomatic practice (all added; none renamed). */
export const PracticeViewFields = {
  noCommentsCount: Type.Integer({ description: 'Addressees whose answer is "no comments" (never counted as comments)' }),
  procedure: Type.Union([Type.Literal('comments'), Type.Literal('silence')]),
  silence: Type.Optional(
    Type.Object({
      brokenBy: Type.Array(SilenceBreak),
      outcome: Type.Union([Type.Literal('deemed-adopted'), Type.Literal('silence-broken'), Type.Null()]),
    }),
  ),
  documentVersion: Type.Object({
    version: Type.Integer(),
    kind: DocumentVersionKind,
    number: Type.Integer(),
    symbol: Type.String(),
    issuedAt: Rfc3339,
  }),
  documentVersions: Type.Array(DocumentVersionView),
  localDeadlines: Type.Record(Type.String(), LocalDeadline, { description: "The deadline in each addressee's zone" }),
  secretariatDeadline: Type.Optional(LocalDeadline),
  language: Type.Optional(Type.String({ description: 'The language chosen from Accept-Language (also Content-Language)' })),
  document: Type.Optional(ConsultationDocument),
};
