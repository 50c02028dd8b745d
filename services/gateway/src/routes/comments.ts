import { canonicalJson, sha256Hex } from '@consult/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import { requireKind, type Principal } from '../auth.js';
import { answer, commandFor, type GatewayContext } from '../context.js';
import { HttpProblem } from '../problems.js';
import { resolveAttachments } from './attachments.js';
import {
  CommentBodySchema,
  NewCommentBody,
  type AttachmentInput,
  CommentList,
  CommentParams,
  CommentReceipt,
  CommentResponse,
  IdempotencyHeaders,
  IdParams,
  ListCommentsQuery,
  Pending,
  Problem,
} from '../schemas.js';
import type { ConsultationView } from '@consult/domain';
import type { FastifyRequest } from 'fastify';
import type { CommentView } from '@consult/read-models';

/** The hash an idempotent retry is compared by: the same key with another body or language is a conflict. */
export function commentBodyHash(body: CommentBodySchema & { attachments?: AttachmentInput[] }): string {
  return sha256Hex(
    canonicalJson({
      body: body.body,
      language: body.language,
      // Only when present, so the hashes of comments without files are what they always were.
      ...(body.attachments !== undefined ? { attachments: body.attachments } : {}),
    }),
  );
}

/**
 * Which member state's comments a principal may read: all (null), one (a code), or none (a problem).
 * The secretariat and auditors read everything; a member state reads its own, or every addressee's when the
 * consultation was circulated with commentVisibility "addressees".
 */
export function readableMemberState(principal: Principal, view: ConsultationView, requested?: string): string | null {
  if (principal.kind === 'secretariat' || principal.kind === 'auditor') return requested ?? null;
  if (principal.kind !== 'member-state') throw new HttpProblem('forbidden', COMMENT_READERS_ONLY);
  if (!view.addressees.includes(principal.id)) throw new HttpProblem('consultation-not-found', `no consultation ${view.id}`);
  if (view.commentVisibility === 'addressees') return requested ?? null;
  if (requested && requested !== principal.id)
    throw new HttpProblem('forbidden', 'member states read only their own comments on this consultation');
  return principal.id;
}

const COMMENT_READERS_ONLY = 'comments are for the secretariat, auditors and addressees';
/** Which document version a comment answered, and whether a corrigendum or revision superseded it since. */
export function withDocumentVersion(view: ConsultationView, comment: CommentView) {
  const answered = view.documentVersions.find((v) => v.version === comment.documentVersion);
  return {
    ...comment,
    ...(answered ? { documentSymbol: answered.symbol } : {}),
    addressesSupersededVersion: comment.documentVersion < view.documentVersion.version,
  };
}

export function commentRoutes(context: GatewayContext): FastifyPluginAsyncTypebox {
  /**
   * For reads: the kind of principal is checked before anything is looked up, so a 403 never depends on the
   * resource, and a consultation the caller may not see is a 404 like one that does not exist.
   */
  const existing = async (request: FastifyRequest, id: string): Promise<ConsultationView> => {
    requireKind(request, 'secretariat', 'auditor', 'member-state');
    const view = await context.readModel.get(context.redis, id);
    if (!view || (request.principal.kind === 'member-state' && !view.addressees.includes(request.principal.id)))
      throw new HttpProblem('consultation-not-found', `no consultation ${id}`);
    return view;
  };
  /**
   * For a member state's writes: the consultation must be addressed to it (a 404 otherwise, as if it did not
   * exist); addressees never change, so this is remembered. The writer decides everything else.
   */
  const mustBeAddressee = async (id: string, memberState: string): Promise<void> => {
    if (!(await context.consultations.isAddressee(id, memberState)))
      throw new HttpProblem('consultation-not-found', `no consultation ${id}`);
  };
  /** Another member state's comment is not visible (a 404) unless the consultation shares comments among addressees. */
  const mustSeeComment = async (consultationId: string, commentId: string, memberState: string): Promise<void> => {
    const comment = await context.readModel.commentById(context.redis, consultationId, commentId);
    if (comment && comment.consultationId === consultationId && comment.memberState !== memberState) {
      const view = await context.readModel.get(context.redis, consultationId);
      if (view?.commentVisibility !== 'addressees') throw new HttpProblem('comment-not-found', `no comment ${commentId}`);
    }
  };

  return async (app) => {
    app.post(
      '/v1/consultations/:id/comments',
      {
        schema: {
          summary: "Post a member state's comment; Idempotency-Key is required",
          tags: ['comments'],
          params: IdParams,
          headers: IdempotencyHeaders,
          body: NewCommentBody,
          response: { 201: CommentReceipt, 202: Pending, '4xx': Problem },
        },
      },
      async (request, reply) => {
        const principal = requireKind(request, 'member-state');
        const idempotencyKey = request.headers['idempotency-key'];
        if (!idempotencyKey) throw new HttpProblem('idempotency-key-required', 'send an Idempotency-Key header (1–200 visible ASCII characters)');
        await mustBeAddressee(request.params.id, principal.id);
        const attachments = await resolveAttachments(context.attachments, request.body.attachments);
        const command = commandFor(request, context, 'consultation.submit-comment', request.params.id, {
          commentId: randomUUID(),
          memberState: principal.id,
          idempotencyKey,
          body: request.body.body,
          language: request.body.language,
          bodyHash: commentBodyHash(request.body),
          ...(attachments ? { attachments } : {}),
        });
        const dispatched = await context.bus.dispatch(command);
        return answer(reply, dispatched, command.id, (receipt) => ({
          status: 201,
          body: receipt,
          location: `/v1/consultations/${request.params.id}/comments/${String(receipt.commentId)}`,
        }));
      },
    );

    app.put(
      '/v1/consultations/:id/comments/:commentId',
      {
        schema: {
          summary: 'Amend a comment (its own member state, before the deadline); every revision is kept',
          tags: ['comments'],
          params: CommentParams,
          headers: IdempotencyHeaders,
          body: CommentBodySchema,
          response: { 200: CommentReceipt, 202: Pending, '4xx': Problem },
        },
      },
      async (request, reply) => {
        const principal = requireKind(request, 'member-state');
        await mustBeAddressee(request.params.id, principal.id);
        await mustSeeComment(request.params.id, request.params.commentId, principal.id);
        const command = commandFor(request, context, 'consultation.amend-comment', request.params.id, {
          commentId: request.params.commentId,
          memberState: principal.id,
          body: request.body.body,
          language: request.body.language,
          bodyHash: commentBodyHash(request.body),
        });
        const dispatched = await context.bus.dispatch(command);
        return answer(reply, dispatched, command.id, (receipt) => ({ status: 200, body: receipt }));
      },
    );

    app.delete(
      '/v1/consultations/:id/comments/:commentId',
      {
        schema: {
          summary: 'Withdraw a comment (its own member state, before the deadline); with an Idempotency-Key a retry gets the first answer',
          tags: ['comments'],
          params: CommentParams,
          headers: IdempotencyHeaders,
          response: { 200: CommentReceipt, 202: Pending, '4xx': Problem },
        },
      },
      async (request, reply) => {
        const principal = requireKind(request, 'member-state');
        await mustBeAddressee(request.params.id, principal.id);
        await mustSeeComment(request.params.id, request.params.commentId, principal.id);
        const command = commandFor(request, context, 'consultation.withdraw-comment', request.params.id, {
          commentId: request.params.commentId,
          memberState: principal.id,
        });
        const dispatched = await context.bus.dispatch(command);
        // A retried withdrawal (same Idempotency-Key) gets the first answer, built from the withdrawn comment.
        if (
          request.headers['idempotency-key'] &&
          dispatched.state === 'decided' &&
          dispatched.outcome.result.status === 'rejected' &&
          dispatched.outcome.result.code === 'comment-withdrawn'
        ) {
          const comment = await context.readModel.commentById(context.redis, request.params.id, request.params.commentId);
          if (comment?.withdrawnAt && comment.memberState === principal.id) {
            const { commentId, trackingNumber, memberState, consultationId, withdrawnAt } = comment;
            return reply
              .code(200)
              .header('idempotent-replayed', 'true')
              .send({ commentId, trackingNumber, memberState, consultationId, withdrawnAt, receivedAt: withdrawnAt, status: 'withdrawn' });
          }
        }
        return answer(reply, dispatched, command.id, (receipt) => ({
          status: 200,
          body: { ...receipt, receivedAt: receipt.withdrawnAt, status: 'withdrawn' },
        }));
      },
    );

    app.get(
      '/v1/consultations/:id/comments',
      {
        schema: {
          summary: 'Comments in order of receipt, paged with ?after=',
          tags: ['comments'],
          params: IdParams,
          querystring: ListCommentsQuery,
          response: { 200: CommentList, '4xx': Problem },
        },
      },
      async (request) => {
        const view = await existing(request, request.params.id);
        const memberState = readableMemberState(request.principal, view, request.query.memberState);
        const page = await context.readModel.comments(context.redis, view.id, {
          ...(memberState ? { memberState } : {}),
          ...(request.query.after ? { after: Number(request.query.after) } : {}),
          limit: Number(request.query.limit ?? 100),
        });
        return {
          items: page.items.map((c) => withDocumentVersion(view, c)),
          next: page.next === null ? null : String(page.next),
        };
      },
    );

    app.get(
      '/v1/consultations/:id/comments/:commentId',
      {
        schema: {
          summary: 'One comment with all its revisions',
          tags: ['comments'],
          params: CommentParams,
          response: { 200: CommentResponse, '4xx': Problem },
        },
      },
      async (request) => {
        const view = await existing(request, request.params.id);
        const comment = await context.readModel.commentById(context.redis, view.id, request.params.commentId);
        if (!comment || comment.consultationId !== view.id)
          throw new HttpProblem('comment-not-found', `no comment ${request.params.commentId}`);
        const readable = readableMemberState(request.principal, view);
        if (readable && readable !== comment.memberState)
          throw new HttpProblem('comment-not-found', `no comment ${request.params.commentId}`);
        return withDocumentVersion(view, comment);
      },
    );
  };
}

