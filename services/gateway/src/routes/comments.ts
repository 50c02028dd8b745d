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
  if (principal.kind !== 'member-state') throw new HttpProblem('forbidden', 'comments are for the secretariat, auditors and addressees');
  if (!view.addressees.includes(principal.id)) throw new HttpProblem('consultation-not-found', `no consultation ${view.id}`);
  if (view.commentVisibility === 'addressees') return requested ?? null;
  if (requested && requested !== principal.id)
    throw new HttpProblem('forbidden', 'member states read only their own comments on this consultation');
  return principal.id;
}

export function commentRoutes(context: GatewayContext): FastifyPluginAsyncTypebox {
  const existing = async (id: string): Promise<ConsultationView> => {
    const view = await context.readModel.get(context.redis, id);
    if (!view) throw new HttpProblem('consultation-not-found', `no consultation ${id}`);
    return view;
  };
  /** For writes: the writer decides everything else, so only existence is checked here (and remembered). */
  const mustExist = async (id: string): Promise<void> => {
    if (!(await context.consultations.exists(id))) throw new HttpProblem('consultation-not-found', `no consultation ${id}`);
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
        await mustExist(request.params.id);
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
          body: CommentBodySchema,
          response: { 200: CommentReceipt, 202: Pending, '4xx': Problem },
        },
      },
      async (request, reply) => {
        const principal = requireKind(request, 'member-state');
        await mustExist(request.params.id);
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
          summary: 'Withdraw a comment (its own member state, before the deadline)',
          tags: ['comments'],
          params: CommentParams,
          response: { 200: CommentReceipt, 202: Pending, '4xx': Problem },
        },
      },
      async (request, reply) => {
        const principal = requireKind(request, 'member-state');
        await mustExist(request.params.id);
        const command = commandFor(request, context, 'consultation.withdraw-comment', request.params.id, {
          commentId: request.params.commentId,
          memberState: principal.id,
        });
        const dispatched = await context.bus.dispatch(command);
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
        const view = await existing(request.params.id);
        const memberState = readableMemberState(request.principal, view, request.query.memberState);
        const page = await context.readModel.comments(context.redis, view.id, {
          ...(memberState ? { memberState } : {}),
          ...(request.query.after ? { after: Number(request.query.after) } : {}),
          limit: Number(request.query.limit ?? 100),
        });
        return { items: page.items, next: page.next === null ? null : String(page.next) };
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
        const view = await existing(request.params.id);
        const comment = await context.readModel.commentById(context.redis, request.params.commentId);
        if (!comment || comment.consultationId !== view.id)
          throw new HttpProblem('comment-not-found', `no comment ${request.params.commentId}`);
        const readable = readableMemberState(request.principal, view);
        if (readable && readable !== comment.memberState)
          throw new HttpProblem('comment-not-found', `no comment ${request.params.commentId}`);
        return comment;
      },
    );
  };
}

