import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireKind } from '../auth.js';
import { HttpProblem } from '../problems.js';
import { Problem } from '../schemas.js';
import { attachmentOn, sendAttachment } from './attachments.js';
import { readableMemberState } from './comments.js';
import { canSee, CONSULTATION_READERS } from './consultations.js';
import type { CsoContext } from './csos.js';
import { canReadStatement, STATEMENT_READERS } from './statements.js';
import { withCoSignerStanding } from './statement-co-signing.js';

const Digest = Type.String({ pattern: '^[0-9a-f]{64}$' });
const binary = { 200: Type.Any({ description: 'The file, as a download' }), '4xx': Problem };

/**
 * Downloads live under what a file is attached to, and whoever may read that item may download its files; no
 * one else learns even that the file exists (404, as for the item itself). The kind of principal is checked
 * before anything is looked up, so a 403 never tells whether the item exists.
 */
export function attachmentDownloadRoutes(context: CsoContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/consultations/:id/comments/:commentId/attachments/:digest',
      {
        schema: {
          summary: "A file attached to a comment: for whoever may read the comment",
          tags: ['attachments'],
          params: Type.Object({ id: Type.String({ format: 'uuid' }), commentId: Type.String({ format: 'uuid' }), digest: Digest }),
          response: binary,
        },
      },
      async (request, reply) => {
        requireKind(request, ...CONSULTATION_READERS);
        const { id, commentId, digest } = request.params;
        const view = await context.readModel.get(context.redis, id);
        if (!view) throw new HttpProblem('consultation-not-found', `no consultation ${id}`);
        const comment = await context.readModel.commentById(context.redis, view.id, commentId);
        if (!comment || comment.consultationId !== view.id) throw new HttpProblem('comment-not-found', `no comment ${commentId}`);
        const readable = readableMemberState(request.principal, view);
        if (readable && readable !== comment.memberState) throw new HttpProblem('comment-not-found', `no comment ${commentId}`);
        return sendAttachment(reply, context.attachments, attachmentOn(comment.attachments, digest));
      },
    );

    app.get(
      '/v1/consultations/:id/documents/:index/attachment',
      {
        schema: {
          summary: "A consultation document's file: for whoever may read the consultation",
          tags: ['attachments'],
          params: Type.Object({ id: Type.String({ format: 'uuid' }), index: Type.String({ pattern: '^\\d{1,2}$' }) }),
          response: binary,
        },
      },
      async (request, reply) => {
        requireKind(request, ...CONSULTATION_READERS);
        const view = await context.readModel.get(context.redis, request.params.id);
        if (!view || !canSee(request.principal, view)) throw new HttpProblem('consultation-not-found', `no consultation ${request.params.id}`);
        const attachment = view.documents[Number(request.params.index)]?.attachment;
        if (!attachment) throw new HttpProblem('attachment-not-found', `document ${request.params.index} has no file`);
        return sendAttachment(reply, context.attachments, attachment);
      },
    );

    app.get(
      '/v1/consultations/:id/document-versions/:version/documents/:index/attachment',
      {
        schema: {
          summary:
            "The file of a document of any version (1 = as circulated; superseded ones included): for whoever may read the consultation",
          tags: ['attachments'],
          params: Type.Object({
            id: Type.String({ format: 'uuid' }),
            version: Type.String({ pattern: '^[1-9]\\d{0,3}$' }),
            index: Type.String({ pattern: '^\\d{1,2}$' }),
          }),
          response: binary,
        },
      },
      async (request, reply) => {
        const { id, version, index } = request.params;
        const view = await context.readModel.get(context.redis, id);
        if (!view || !canSee(request.principal, view)) throw new HttpProblem('consultation-not-found', `no consultation ${id}`);
        const issued = view.documentVersions.find((v) => v.version === Number(version));
        if (!issued) throw new HttpProblem('attachment-not-found', `the consultation has no document version ${version}`);
        const attachment = issued.documents[Number(index)]?.attachment;
        if (!attachment) throw new HttpProblem('attachment-not-found', `document ${index} of version ${version} has no file`);
        return sendAttachment(reply, context.attachments, attachment);
      },
    );

    app.get(
      '/v1/cso-statements/:id/attachments/:digest',
      {
        schema: {
          summary: 'A file attached to a statement: for whoever may read the statement',
          tags: ['attachments'],
          params: Type.Object({ id: Type.String({ format: 'uuid' }), digest: Digest }),
          response: binary,
        },
      },
      async (request, reply) => {
        requireKind(request, ...STATEMENT_READERS);
        const statement = await context.csos.statementById(context.redis, request.params.id);
        if (!statement || !canReadStatement(request.principal, await withCoSignerStanding(context, statement)))
          throw new HttpProblem('statement-not-found', `no statement ${request.params.id}`);
        return sendAttachment(reply, context.attachments, attachmentOn(statement.attachments, request.params.digest));
      },
    );
  };
}
