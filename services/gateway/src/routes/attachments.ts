import type { Readable } from 'node:stream';
import { AttachmentError, ATTACHMENT_MAX_BYTES, storeUpload, type AttachmentStore } from '@consult/attachments';
import { AttachmentMediaTypeSchema, type AttachmentRef } from '@consult/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { requireKind } from '../auth.js';
import { HttpProblem } from '../problems.js';
import { Problem, type AttachmentInput } from '../schemas.js';

export const AttachmentResponse = Type.Object({
  digest: Type.String({ description: 'SHA-256 of the bytes (hex): how comments, statements and documents refer to the file' }),
  mediaType: AttachmentMediaTypeSchema,
  size: Type.Integer(),
  filename: Type.Optional(Type.String()),
});

const UploadHeaders = Type.Object({
  'content-digest': Type.Optional(Type.String({ maxLength: 200, description: "RFC 9530, e.g. sha-256=:<base64>: — the upload is refused if the bytes differ" })),
  'x-content-sha256': Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'The same as hex' })),
});

/** The digest the sender expects, from `Content-Digest: sha-256=:<base64>:` or `X-Content-SHA256: <hex>`. */
function expectedDigest(headers: Static<typeof UploadHeaders>): string | undefined {
  if (headers['x-content-sha256']) return headers['x-content-sha256'].toLowerCase();
  const header = headers['content-digest'];
  if (!header) return undefined;
  const match = /(?:^|,)\s*sha-256=:([A-Za-z0-9+/]+={0,2}):/.exec(header);
  if (!match) throw new HttpProblem('validation-failed', 'Content-Digest: only sha-256=:<base64>: is understood');
  const hex = Buffer.from(match[1]!, 'base64').toString('hex');
  if (hex.length !== 64) throw new HttpProblem('validation-failed', 'Content-Digest: a SHA-256 is 32 bytes');
  return hex;
}

/** Resolves references in a request body against the store: each must be an uploaded file (else 422). */
export async function resolveAttachments(store: AttachmentStore, inputs: readonly AttachmentInput[] | undefined): Promise<AttachmentRef[] | undefined> {
  if (!inputs) return undefined;
  if (new Set(inputs.map((i) => i.digest)).size !== inputs.length) throw new HttpProblem('validation-failed', 'attachments: the same file twice');
  return Promise.all(
    inputs.map(async (input) => {
      const meta = await store.stat(input.digest);
      if (!meta) throw new HttpProblem('attachment-unknown', `attachments: no uploaded file has SHA-256 ${input.digest}`);
      return { digest: meta.digest, mediaType: meta.mediaType, size: meta.size, ...(input.filename !== undefined ? { filename: input.filename } : {}) };
    }),
  );
}

/** A full reference (a consultation document's) must name a stored file with that very type and size. */
export async function checkAttachment(store: AttachmentStore, ref: AttachmentRef, where: string): Promise<void> {
  const meta = await store.stat(ref.digest);
  if (!meta) throw new HttpProblem('attachment-unknown', `${where}: no uploaded file has SHA-256 ${ref.digest}`);
  if (meta.mediaType !== ref.mediaType || meta.size !== ref.size)
    throw new HttpProblem('validation-failed', `${where}: the file ${ref.digest} is ${meta.mediaType}, ${meta.size} bytes`);
}

const quoted = (name: string): string => name.replace(/["\\]/g, '_').replace(/[^\x20-\x7e]/g, '_');

/**
 * Serves a stored file as a download, never for display: `Content-Disposition: attachment`, `nosniff` and a
 * CSP that allows nothing, so a browser neither renders nor runs it whatever it holds.
 */
export async function sendAttachment(reply: FastifyReply, store: AttachmentStore, ref: AttachmentRef): Promise<FastifyReply> {
  const stream: Readable | null = await store.open(ref.digest);
  if (!stream) throw new HttpProblem('attachment-not-found', `the file ${ref.digest} is missing from storage`);
  const name = ref.filename ?? `${ref.digest}`;
  return reply
    .code(200)
    .header('content-type', ref.mediaType)
    .header('content-length', String(ref.size))
    .header('content-disposition', `attachment; filename="${quoted(name)}"; filename*=UTF-8''${encodeURIComponent(name)}`)
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('cache-control', 'private, max-age=0')
    .header('repr-digest', `sha-256=:${Buffer.from(ref.digest, 'hex').toString('base64')}:`)
    .send(stream);
}

/** The reference with this digest on an item, or a 404 (the item was readable, the file is not on it). */
export function attachmentOn(refs: readonly AttachmentRef[] | undefined, digest: string): AttachmentRef {
  const ref = refs?.find((r) => r.digest === digest);
  if (!ref) throw new HttpProblem('attachment-not-found', `no attachment ${digest} here`);
  return ref;
}

/**
 * `POST /v1/attachments`: the body is the file itself (any Content-Type: the type is read from the bytes). It
 * is streamed to a staging file while hashed, never held in memory; oversize, a type other than PDF, DOCX, ODT,
 * PNG or JPEG, or a digest other than the one the sender named is a 4xx and nothing is stored.
 */
export function attachmentUploadRoutes(
  store: AttachmentStore,
  maxBytes = ATTACHMENT_MAX_BYTES,
  /** The standing of a CSO's accreditation now (`accredited`, `lapsed`, `revoked`), or null if unknown. */
  csoStatus: (csoId: string) => Promise<string | null> = async () => 'accredited',
): FastifyPluginAsyncTypebox {
  return async (app) => {
    // In this scope only, any body is a raw stream (the JSON API elsewhere keeps its parsers and limits).
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    app.post(
      '/v1/attachments',
      {
        schema: {
          summary: `Upload a file (PDF, DOCX, ODT, PNG or JPEG, judged by content; at most ${maxBytes} bytes) to attach to comments, statements or documents by its SHA-256`,
          tags: ['attachments'],
          headers: UploadHeaders,
          response: { 201: AttachmentResponse, '4xx': Problem },
        },
      },
      async (request, reply) => {
        const principal = requireKind(request, 'secretariat', 'member-state', 'cso');
        // A file is only ever uploaded to be attached; an organisation that may not submit has nothing to attach it to.
        if (principal.kind === 'cso') {
          const status = await csoStatus(principal.id);
          if (status !== 'accredited') {
            reply.header('connection', 'close');
            throw new HttpProblem('cso-not-accredited', `the accreditation of ${principal.id} ${status === 'revoked' ? 'was revoked' : status === 'lapsed' ? 'lapsed' : 'is unknown'}: it cannot upload files`);
          }
        }
        const declared = Number(request.headers['content-length'] ?? NaN);
        if (declared > maxBytes) {
          // Refused before a byte is read: the connection closes rather than drain the rest.
          reply.header('connection', 'close');
          throw new HttpProblem('attachment-too-large', `the file is ${declared} bytes; the limit is ${maxBytes}`);
        }
        const body = request.body as Readable | undefined;
        if (!body || typeof (body as { pipe?: unknown }).pipe !== 'function')
          throw new HttpProblem('attachment-type-not-allowed', 'send the file as the request body');
        const expected = expectedDigest(request.headers);
        try {
          const meta = await storeUpload(store, body, { maxBytes, ...(expected ? { expectedDigest: expected } : {}) });
          return reply.code(201).header('location', `/v1/attachments/${meta.digest}`).send(meta);
        } catch (error) {
          if (error instanceof AttachmentError) {
            // Stop reading what is left of a refused upload.
            if (!body.readableEnded) reply.header('connection', 'close');
            throw new HttpProblem(error.code, error.detail);
          }
          throw error;
        }
      },
    );
  };
}
