import { endOfLocalDay, LOCAL_DATE_RE, localizeView, type ConsultationView } from '@consult/domain';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requireKind } from '../auth.js';
import { answer, commandFor, type GatewayContext } from '../context.js';
import { HttpProblem } from '../problems.js';
import { checkAttachment } from './attachments.js';
import { IdempotencyHeaders, IdParams, Pending, Problem } from '../schemas.js';
import {
  DocumentVersionBody,
  DocumentVersionReceipt,
  NoCommentsReceipt,
  SilenceBreakBody,
  SilenceBreakReceipt,
} from './diplomatic-practice-schemas.js';

/**
 * A deadline as sent: an RFC 3339 instant as is, or a date ("2023-03-20") meaning the end of that day in the
 * Secretariat's zone (2023-03-20T23:59:59.999 there).
 */
export function resolveDeadline(input: string, secretariatTimeZone: string): string {
  if (!LOCAL_DATE_RE.test(input)) return input;
  const resolved = endOfLocalDay(input, secretariatTimeZone);
  if (!resolved) throw new HttpProblem('validation-failed', `deadline ${input} is not a calendar date`);
  return resolved;
}

/**
 * The view in the language Accept-Language asks for (falling back to the original), with the answer's
 * Content-Language naming the choice.
 */
export function localized<V extends ConsultationView>(request: FastifyRequest, reply: FastifyReply, view: V): V {
  const result = localizeView(view, request.headers['accept-language']);
  if (result.language) reply.header('content-language', result.language);
  reply.header('vary', 'Accept-Language');
  return result;
}

export function diplomaticPracticeRoutes(context: GatewayContext): FastifyPluginAsyncTypebox {
  const mustExist = async (id: string): Promise<void> => {
    if (!(await context.consultations.exists(id))) throw new HttpProblem('consultation-not-found', `no consultation ${id}`);
  };
  /** A consultation not addressed to the member state is, to it, one that does not exist (docs/security.md). */
  const mustBeAddressee = async (id: string, memberState: string): Promise<void> => {
    if (!(await context.consultations.isAddressee(id, memberState))) throw new HttpProblem('consultation-not-found', `no consultation ${id}`);
  };

  return async (app) => {
    app.post(
      '/v1/consultations/:id/no-comments',
      {
        schema: {
          summary: 'Answer "no comments" (a nil return) as an addressee; idempotent; a later comment replaces it',
          tags: ['comments'],
          params: IdParams,
          response: { 201: NoCommentsReceipt, 202: Pending, '4xx': Problem },
        },
      },
      async (request, reply) => {
        const principal = requireKind(request, 'member-state');
        await mustBeAddressee(request.params.id, principal.id);
        const command = commandFor(request, context, 'consultation.submit-no-comments', request.params.id, {
          memberState: principal.id,
        });
        const dispatched = await context.bus.dispatch(command);
        return answer(reply, dispatched, command.id, (receipt) => ({ status: 201, body: receipt }));
      },
    );

    app.post(
      '/v1/consultations/:id/silence-breaks',
      {
        schema: {
          summary: 'Break silence (an addressee, with a reason, received by the deadline); idempotent',
          tags: ['consultations'],
          params: IdParams,
          body: SilenceBreakBody,
          response: { 201: SilenceBreakReceipt, 202: Pending, '4xx': Problem },
        },
      },
      async (request, reply) => {
        const principal = requireKind(request, 'member-state');
        await mustBeAddressee(request.params.id, principal.id);
        const command = commandFor(request, context, 'consultation.break-silence', request.params.id, {
          memberState: principal.id,
          reason: request.body.reason,
        });
        const dispatched = await context.bus.dispatch(command);
        return answer(reply, dispatched, command.id, (receipt) => ({ status: 201, body: receipt }));
      },
    );

    app.post(
      '/v1/consultations/:id/document-versions',
      {
        schema: {
          summary:
            'Issue a corrigendum (IO/218/Corr.1) or a revised text (IO/218/Rev.1) (secretariat); a revision may reset the deadline or the silence',
          tags: ['consultations'],
          params: IdParams,
          headers: IdempotencyHeaders,
          body: DocumentVersionBody,
          response: { 201: DocumentVersionReceipt, 202: Pending, '4xx': Problem },
        },
      },
      async (request, reply) => {
        requireKind(request, 'secretariat');
        await mustExist(request.params.id);
        const body = request.body;
        // As at creation: a document's file must be an upload with that very type and size, so no version
        // refers to bytes the store does not hold (checked here: the writer never sees the store).
        for (const [index, document] of body.documents.entries())
          if (document.attachment) await checkAttachment(context.attachments, document.attachment, `documents/${index}/attachment`);
        const idempotencyKey = request.headers['idempotency-key'];
        const command = commandFor(request, context, 'consultation.issue-document-version', request.params.id, {
          kind: body.kind,
          documents: body.documents,
          ...(body.note !== undefined ? { note: body.note } : {}),
          ...(body.deadline !== undefined ? { deadline: resolveDeadline(body.deadline, context.zones.secretariat) } : {}),
          ...(body.resetSilence !== undefined ? { resetSilence: body.resetSilence } : {}),
          ...(idempotencyKey ? { idempotencyKey } : {}),
        });
        const dispatched = await context.bus.dispatch(command);
        return answer(reply, dispatched, command.id, (receipt) => ({
          status: 201,
          body: receipt,
          location: `/v1/consultations/${request.params.id}`,
        }));
      },
    );
  };
}
