import { randomUUID } from 'node:crypto';
import { canonicalJson, sha256Hex, type CsoCommand, type CsoCommandOf } from '@consult/contracts';
import type { StatementIndex, StatementView } from '@consult/read-models';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requireKind, type Principal } from '../auth.js';
import { answer } from '../context.js';
import { HttpProblem, sendProblem } from '../problems.js';
import { IdempotencyHeaders, IdParams, Pending, Problem } from '../schemas.js';
import { csoCommandFor, type CsoContext } from './csos.js';
import { statementAsOfRequest, statementHistoryRoutes } from './statement-history.js';
import { coSigningRoutes, withCoSignerStanding } from './statement-co-signing.js';
import { resolveAttachments } from './attachments.js';
import {
  ForwardingBody,
  GetStatementQuery,
  ListStatementsQuery,
  ReturnBody,
  StatementList,
  StatementReceipt,
  StatementResponse,
  SubmitStatementBody,
} from './statement-schemas.js';

/** The hash an idempotent retry is compared by: the same key with another subject, body, language or relatesTo is a conflict. */
export function statementBodyHash(body: SubmitStatementBody): string {
  return sha256Hex(
    canonicalJson({
      subject: body.subject,
      body: body.body,
      language: body.language,
      relatesTo: body.relatesTo ?? null,
      // Only when named, so the hashes of statements without co-signers are what they always were.
      ...(body.coSigners !== undefined ? { coSigners: body.coSigners } : {}),
      ...(body.attachments !== undefined ? { attachments: body.attachments } : {}),
    }),
  );
}

/**
 * Who may read a statement: the secretariat and auditors all; an organisation its own; the Standing Committee
 * what was forwarded to it. Everyone else with a key gets 403; a statement one may not see is a 404.
 */
/** Who may read statements at all (which ones is `canReadStatement`'s to say). */
export const STATEMENT_READERS = ['secretariat', 'auditor', 'cso', 'standing-committee'] as const;

export function canReadStatement(principal: Principal, statement: StatementView): boolean {
  switch (principal.kind) {
    case 'secretariat':
    case 'auditor':
      return true;
    case 'cso':
      return statement.csoId === principal.id || (statement.coSigners?.some((c) => c.csoId === principal.id) ?? false);
    case 'standing-committee':
      return statement.status === 'forwarded' || statement.status === 'acknowledged';
    default:
      throw new HttpProblem('forbidden', 'statements are for the secretariat, the Standing Committee, auditors and their authors');
  }
}

type TransitionType = 'cso.review-statement' | 'cso.forward-statement' | 'cso.return-statement' | 'cso.acknowledge-statement';

export function statementRoutes(context: CsoContext): FastifyPluginAsyncTypebox {
  const readable = async (request: FastifyRequest, id: string): Promise<StatementView> => {
    // The kind is checked before the lookup: a 403 never tells whether the statement exists.
    requireKind(request, ...STATEMENT_READERS);
    const statement = await context.csos.statementById(context.redis, id);
    if (!statement || !canReadStatement(request.principal, statement))
      throw new HttpProblem('statement-not-found', `no statement ${id}`);
    return withCoSignerStanding(context, statement);
  };

  /** Sends a transition to the writer of the statement's CSO stream and answers with the statement as it now is. */
  const transition = async <T extends TransitionType>(
    request: FastifyRequest,
    reply: FastifyReply,
    type: T,
    data: CsoCommandOf<T>['data'],
  ): Promise<FastifyReply> => {
    const statement = await readable(request, data.statementId);
    const command: CsoCommand = csoCommandFor(request, context, type, statement.csoId, data);
    const dispatched = await context.bus.dispatchTo(context.csoRoute, command);
    if (dispatched.state === 'decided' && dispatched.outcome.result.status === 'rejected') {
      const { code, detail } = dispatched.outcome.result;
      if (code === 'illegal-transition') {
        const current = await context.csos.statementById(context.redis, statement.statementId);
        return sendProblem(reply, new HttpProblem('illegal-transition', detail, { currentState: current?.status ?? statement.status }), request.url);
      }
    }
    const view =
      dispatched.state === 'decided' && dispatched.outcome.result.status === 'accepted'
        ? await context.csos.statementById(context.redis, statement.statementId)
        : null;
    return answer(reply, dispatched, command.id, (receipt) => ({ status: 200, body: view ?? receipt }));
  };

  const transitionSchema = (summary: string) => ({
    summary,
    tags: ['cso-statements'],
    params: IdParams,
    headers: IdempotencyHeaders,
    response: { 200: StatementResponse, 202: Pending, '4xx': Problem },
  });

  return async (app) => {
    app.post(
      '/v1/cso-statements',
      {
        schema: {
          summary: 'Submit a written statement to the Standing Committee through the Secretariat (accredited CSO); Idempotency-Key is required',
          tags: ['cso-statements'],
          headers: IdempotencyHeaders,
          body: SubmitStatementBody,
          response: { 201: StatementReceipt, 202: Pending, '4xx': Problem },
        },
      },
      async (request, reply) => {
        const principal = requireKind(request, 'cso');
        const idempotencyKey = request.headers['idempotency-key'];
        if (!idempotencyKey)
          throw new HttpProblem('idempotency-key-required', 'send an Idempotency-Key header (1–200 visible ASCII characters)');
        const body = request.body;
        if (body.relatesTo !== undefined && !(await context.readModel.get(context.redis, body.relatesTo)))
          throw new HttpProblem('related-consultation-not-found', `relatesTo: no consultation ${body.relatesTo}`);
        const now = context.now().toISOString();
        for (const coSigner of body.coSigners ?? []) {
          if (coSigner === principal.id) throw new HttpProblem('co-signer-invalid', 'coSigners: an organisation does not co-sign its own statement');
          const cso = await context.csos.get(context.redis, coSigner, now);
          if (!cso) throw new HttpProblem('co-signer-invalid', `coSigners: no organisation ${coSigner}`);
          if (cso.status !== 'accredited') throw new HttpProblem('co-signer-invalid', `coSigners: the accreditation of ${cso.name} ${cso.status === 'revoked' ? 'was revoked' : 'lapsed'}`);
        }
        const attachments = await resolveAttachments(context.attachments, body.attachments);
        const command = csoCommandFor(request, context, 'cso.submit-statement', principal.id, {
          statementId: randomUUID(),
          idempotencyKey,
          subject: body.subject,
          body: body.body,
          language: body.language,
          ...(body.relatesTo !== undefined ? { relatesTo: body.relatesTo } : {}),
          ...(body.coSigners !== undefined ? { coSigners: body.coSigners } : {}),
          ...(attachments ? { attachments } : {}),
          bodyHash: statementBodyHash(body),
        });
        const dispatched = await context.bus.dispatchTo(context.csoRoute, command);
        return answer(reply, dispatched, command.id, (receipt) => ({
          status: 201,
          body: receipt,
          location: `/v1/cso-statements/${String(receipt.statementId)}`,
        }));
      },
    );

    app.post(
      '/v1/cso-statements/:id/review',
      { schema: transitionSchema('Take a submitted statement under review (secretariat)') },
      async (request, reply) => {
        requireKind(request, 'secretariat');
        return transition(request, reply, 'cso.review-statement', { statementId: request.params.id });
      },
    );

    app.post(
      '/v1/cso-statements/:id/forwarding',
      {
        schema: { ...transitionSchema('Forward a statement under review to the Standing Committee (secretariat); the note is optional'), body: ForwardingBody },
        // The note is optional, so is the body: a bodiless POST is read as {}.
        preValidation: async (request) => {
          request.body ??= {};
        },
      },
      async (request, reply) => {
        requireKind(request, 'secretariat');
        const note = request.body.note;
        return transition(request, reply, 'cso.forward-statement', {
          statementId: request.params.id,
          ...(note !== undefined ? { note } : {}),
        });
      },
    );

    app.post(
      '/v1/cso-statements/:id/return',
      { schema: { ...transitionSchema('Return a statement under review to its organisation with reasons (secretariat)'), body: ReturnBody } },
      async (request, reply) => {
        requireKind(request, 'secretariat');
        return transition(request, reply, 'cso.return-statement', { statementId: request.params.id, reasons: request.body.reasons });
      },
    );

    app.post(
      '/v1/cso-statements/:id/acknowledgement',
      { schema: transitionSchema('Acknowledge a forwarded statement (Standing Committee)') },
      async (request, reply) => {
        requireKind(request, 'standing-committee');
        return transition(request, reply, 'cso.acknowledge-statement', { statementId: request.params.id });
      },
    );

    app.get(
      '/v1/cso-statements',
      {
        schema: {
          summary:
            "Statements: an organisation its own; the secretariat all or its review queue (?queue=review, oldest first); the Standing Committee what was forwarded; auditors all",
          tags: ['cso-statements'],
          querystring: ListStatementsQuery,
          response: { 200: StatementList, '4xx': Problem },
        },
      },
      async (request) => {
        const principal = request.principal;
        const limit = Number(request.query.limit ?? 50);
        const offset = Number(request.query.offset ?? 0);
        const queue = request.query.queue === 'review';
        let index: StatementIndex;
        let order: 'oldest' | 'newest' = 'newest';
        if (queue) {
          requireKind(request, 'secretariat', 'auditor');
          index = { kind: 'review' };
          order = 'oldest';
        } else if (principal.kind === 'cso') index = { kind: 'cso', csoId: principal.id };
        else if (principal.kind === 'standing-committee') index = { kind: 'committee' };
        else {
          requireKind(request, 'secretariat', 'auditor');
          index = { kind: 'all' };
        }
        const { items, total } = await context.csos.statements(context.redis, index, { offset, limit, order });
        return { items: await Promise.all(items.map((s) => withCoSignerStanding(context, s))), total, offset, limit };
      },
    );

    app.get(
      '/v1/cso-statements/:id',
      {
        schema: {
          summary:
            'One statement with its transition history; ?asOf= gives it as it stood then, replayed through the domain (secretariat, auditors, its organisation)',
          tags: ['cso-statements'],
          params: IdParams,
          querystring: GetStatementQuery,
          response: { 200: StatementResponse, '4xx': Problem },
        },
      },
      async (request) =>
        request.query.asOf !== undefined
          ? statementAsOfRequest(request, context, request.params.id, request.query.asOf)
          : readable(request, request.params.id),
    );

    await app.register(statementHistoryRoutes(context));
    await app.register(coSigningRoutes(context, readable));
  };
}
