import { deterministicUuid, DEFAULT_REMINDER_OFFSETS_SECONDS, isMemberStateCode } from '@consult/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import { requireKind } from '../auth.js';
import { answer, commandFor, type GatewayContext } from '../context.js';
import { HttpProblem } from '../problems.js';
import {
  ConsultationList,
  ConsultationResponse,
  CreateConsultationBody,
  DeadlineExtensionBody,
  DeadlineExtensionResponse,
  GetConsultationQuery,
  IdempotencyHeaders,
  IdParams,
  ListConsultationsQuery,
  Pending,
  Problem,
} from '../schemas.js';
import type { ConsultationView } from '@consult/domain';
import type { Principal } from '../auth.js';
import { consultationAsOfRequest } from './history.js';

/**
 * Who reads consultations: the secretariat and auditors all of them, a member state those addressed to it.
 * CSOs and the Standing Committee take part through statements only: a consultation's addressees and who has
 * responded are not theirs to see (docs/security.md).
 */
export const CONSULTATION_READERS = ['secretariat', 'auditor', 'member-state'] as const;

/** Member states see the consultations addressed to them; the secretariat and auditors see them all. */
export function canSee(principal: Principal, view: ConsultationView): boolean {
  if (principal.kind === 'member-state') return view.addressees.includes(principal.id);
  return principal.kind === 'secretariat' || principal.kind === 'auditor';
}

export function consultationRoutes(context: GatewayContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/consultations',
      {
        schema: {
          summary: 'Circulate a document for comments by a deadline (secretariat)',
          tags: ['consultations'],
          body: CreateConsultationBody,
          headers: IdempotencyHeaders,
          response: { 201: ConsultationResponse, 202: Pending, '4xx': Problem },
        },
      },
      async (request, reply) => {
        const principal = requireKind(request, 'secretariat');
        const key = request.headers['idempotency-key'];
        // With an Idempotency-Key, a retried creation maps to the same consultation and gets the same answer.
        const id = key ? deterministicUuid(`consultation:${principal.kind}:${principal.id}:${key}`) : randomUUID();
        const body = request.body;
        // The writer decides these too; checking here keeps bad input out of Kafka altogether.
        const unknown = body.addressees.filter((code) => !isMemberStateCode(code));
        if (unknown.length > 0)
          throw new HttpProblem('unknown-member-state', `not ISO 3166-1 alpha-3 codes: ${unknown.join(', ')}`);
        if (Date.parse(body.deadline) <= Date.parse(request.receivedAt))
          throw new HttpProblem('deadline-not-in-future', `deadline ${body.deadline} is not after ${request.receivedAt}`);
        const command = commandFor(request, context, 'consultation.open', id, {
          reference: body.reference,
          title: body.title,
          ...(body.summary !== undefined ? { summary: body.summary } : {}),
          documents: body.documents,
          addressees: body.addressees,
          deadline: body.deadline,
          reminderOffsetsSeconds: body.reminderOffsetsSeconds ?? [...DEFAULT_REMINDER_OFFSETS_SECONDS],
          commentVisibility: body.commentVisibility ?? 'own',
        });
        const dispatched = await context.bus.dispatch(command);
        if (dispatched.state === 'decided' && dispatched.outcome.result.status === 'accepted') {
          const view = await context.readModel.get(context.redis, id);
          if (view) {
            return answer(reply, dispatched, command.id, () => ({
              status: 201,
              body: view,
              location: `/v1/consultations/${id}`,
            }));
          }
        }
        return answer(reply, dispatched, command.id, (receipt) => ({ status: 201, body: receipt }));
      },
    );

    app.get(
      '/v1/consultations',
      {
        schema: {
          summary: 'List consultations, open ones by nearest deadline, others newest first',
          tags: ['consultations'],
          querystring: ListConsultationsQuery,
          response: { 200: ConsultationList },
        },
      },
      async (request) => {
        requireKind(request, ...CONSULTATION_READERS);
        const limit = Number(request.query.limit ?? 50);
        const offset = Number(request.query.offset ?? 0);
        const principal = request.principal;
        // A member state pages through, and counts, only the consultations addressed to it.
        const { items, total } =
          principal.kind === 'member-state'
            ? await context.readModel.listFor(context.redis, principal.id, request.query.status, { offset, limit })
            : await context.readModel.list(context.redis, request.query.status, { offset, limit });
        return { items: items.filter((v) => canSee(principal, v)), total, offset, limit };
      },
    );

    app.get(
      '/v1/consultations/:id',
      {
        schema: {
          summary: 'A consultation with who has responded',
          tags: ['consultations'],
          params: IdParams,
          querystring: GetConsultationQuery,
          response: { 200: ConsultationResponse, '4xx': Problem },
        },
      },
      async (request) => {
        requireKind(request, ...CONSULTATION_READERS);
        if (request.query.asOf !== undefined)
          return consultationAsOfRequest(request, context, request.params.id, request.query.asOf);
        const view = await context.readModel.get(context.redis, request.params.id);
        if (!view || !canSee(request.principal, view))
          throw new HttpProblem('consultation-not-found', `no consultation ${request.params.id}`);
        return view;
      },
    );

    app.post(
      '/v1/consultations/:id/deadline-extensions',
      {
        schema: {
          summary: 'Extend the deadline (secretariat); the new deadline must be later than the current one; the same extension again gets the first answer',
          tags: ['consultations'],
          params: IdParams,
          headers: IdempotencyHeaders,
          body: DeadlineExtensionBody,
          response: { 201: DeadlineExtensionResponse, 202: Pending, '4xx': Problem },
        },
      },
      async (request, reply) => {
        requireKind(request, 'secretariat');
        const command = commandFor(request, context, 'consultation.extend-deadline', request.params.id, {
          deadline: request.body.deadline,
          reason: request.body.reason,
        });
        const dispatched = await context.bus.dispatch(command);
        return answer(reply, dispatched, command.id, (receipt) => ({ status: 201, body: receipt }));
      },
    );
  };
}

