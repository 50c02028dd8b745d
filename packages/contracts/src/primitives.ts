import { Type, type Static } from '@sinclair/typebox';

/** Small shared pieces: the gateway's HTTP schemas reuse these, so API and events agree on their shape. */

export const Uuid = Type.String({
  format: 'uuid',
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  description: 'A UUID',
});

/** RFC 3339 date-time with an explicit offset (Z or ±hh:mm). */
export const Rfc3339 = Type.String({
  format: 'date-time',
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$',
  description: 'RFC 3339 date-time with an offset, e.g. 2026-12-01T17:00:00+07:00',
});

export const MemberStateCode = Type.String({
  pattern: '^[A-Z]{3}$',
  description: 'ISO 3166-1 alpha-3 code of a member state, e.g. KHM',
});

/** BCP 47 language tag, restricted to the shapes secretariats use (en, ru, kk, zh-Hans, pt-BR). */
export const LanguageTag = Type.String({
  pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$',
  maxLength: 35,
  description: 'BCP 47 language tag, e.g. en, ru, kk',
});

/** A note verbale reference such as "IO/218". */
export const Reference = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9 ./_-]*$' });

export const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const PrincipalKind = Type.Union([
  Type.Literal('secretariat'),
  Type.Literal('member-state'),
  Type.Literal('cso'),
  Type.Literal('standing-committee'),
  Type.Literal('auditor'),
  Type.Literal('system'),
]);
export type PrincipalKind = Static<typeof PrincipalKind>;

/** Who did it: the principal kind and its identifier (a member-state code, a CSO id, a key id or a system service). */
export const Actor = Type.Object({
  kind: PrincipalKind,
  id: Type.String({ minLength: 1, maxLength: 128 }),
});
export type Actor = Static<typeof Actor>;

export const CommentVisibility = Type.Union([Type.Literal('own'), Type.Literal('addressees')], {
  description: "Who among member states can read comments: 'own' (default) or all 'addressees'",
});
export type CommentVisibility = Static<typeof CommentVisibility>;

/**
 * Files travel beside the events, never inside them: an event names a file by its SHA-256 (the address in the
 * content-addressed store), with its media type (read from its bytes at upload) and size.
 */
export const ATTACHMENT_MEDIA_TYPES = [
  'application/pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.oasis.opendocument.text',
  'image/png',
  'image/jpeg',
] as const;
export type AttachmentMediaType = (typeof ATTACHMENT_MEDIA_TYPES)[number];
export const AttachmentMediaTypeSchema = Type.Union(ATTACHMENT_MEDIA_TYPES.map((t) => Type.Literal(t)));
export const AttachmentFilename = Type.String({ minLength: 1, maxLength: 255, pattern: '^[^/\\\\\\u0000-\\u001f]+$' });
export const AttachmentRef = Type.Object(
  {
    digest: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the bytes, hex' }),
    mediaType: AttachmentMediaTypeSchema,
    size: Type.Integer({ minimum: 1 }),
    /** The name to offer on download; informational only (the type comes from the bytes). */
    filename: Type.Optional(AttachmentFilename),
  },
  { additionalProperties: false },
);
export type AttachmentRef = Static<typeof AttachmentRef>;

export const ConsultationDocument = Type.Object(
  {
    language: LanguageTag,
    title: Type.String({ minLength: 1, maxLength: 500 }),
    uri: Type.Optional(Type.String({ format: 'uri', maxLength: 2048, pattern: '^https?://' })),
    text: Type.Optional(Type.String({ maxLength: 200_000 })),
    /** The language the text was negotiated in; the others are translations. Exactly one per version (absent everywhere: the first). */
    original: Type.Optional(Type.Boolean()),
    /** The document as a file (e.g. the note verbale "with enclosure"), uploaded first: see attachments.ts. */
    attachment: Type.Optional(AttachmentRef),
  },
  { additionalProperties: false },
);
export type ConsultationDocument = Static<typeof ConsultationDocument>;
