import { randomBytes, randomUUID } from 'node:crypto';
import {
  csoCommandCodec,
  deterministicUuid,
  sha256Hex,
  type CsoCommand,
  type CsoCommandOf,
  type CsoCommandType,
} from '@consult/contracts';
import { CsoReadModel, type CsoView } from '@consult/read-models';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requireKind } from '../auth.js';
import type { CommandRoute, Dispatched } from '../command-bus.js';
import { answer, stampedCommand, type GatewayContext } from '../context.js';
import { HttpProblem } from '../problems.js';
import { IdempotencyHeaders, IdParams, Pending, Problem } from '../schemas.js';
import { AccreditCsoBody, CsoList, CsoResponse, ListCsosQuery, RenewalBody, RevocationBody } from './statement-schemas.js';

/** What the CSO and statement routes need beside the consultation context; built once in app.ts. */
export interface CsoContext extends GatewayContext {
  csos: CsoReadModel;
  csoRoute: CommandRoute<CsoCommand>;
  now: () => Date;
}

export function csoContext(base: GatewayContext, csos: CsoReadModel, topic: string, now: () => Date): CsoContext {
  return {
    ...base,
    csos,
    now,
    csoRoute: {
      topic,
      encode: (command) => csoCommandCodec.encode(command),
      versionKey: (key) => CsoReadModel.streamKey(key),
      storedVersion: (key) => csos.versionOf(base.redis, key),
    },
  };
}

/** Builds a CSO-stream command stamped with the request's receipt time, actor and correlation id. */
export function csoCommandFor<T extends CsoCommandType>(
  request: FastifyRequest,
  context: CsoContext,
  type: T,
  key: string,
  data: CsoCommandOf<T>['data'],
): CsoCommandOf<T> {
  return stampedCommand(request, context.instanceId, type, key, data) as unknown as CsoCommandOf<T>;
}

/** A fresh API secret in the admin tool's format: 32 random bytes, URL-safe, recognisable prefix. */
function newSecret(): string {
  return `cmk_${randomBytes(32).toString('base64url')}`;
}

/** The secretariat and auditors see every organisation; an organisation sees itself; nobody else any. */
function readableCso(request: FastifyRequest, id: string): void {
  const principal = request.principal;
  if (principal.kind === 'secretariat' || principal.kind === 'auditor') return;
  if (principal.kind === 'cso') {
    if (principal.id !== id) throw new HttpProblem('cso-not-found', `no organisation ${id}`);
    return;
  }
  throw new HttpProblem('forbidden', 'organisations are visible to the secretariat, auditors and themselves');
}

const AccreditPending = Type.Object({
  status: Type.Literal('pending'),
  commandId: Type.String(),
  statusUrl: Type.String(),
  id: Type.String(),
  apiKey: Type.String({ description: 'Works once the accreditation is accepted; shown only now' }),
});

export function csoRoutes(context: CsoContext): FastifyPluginAsyncTypebox {
  const existing = async (id: string): Promise<CsoView> => {
    const view = await context.csos.get(context.redis, id, context.now().toISOString());
    if (!view) throw new HttpProblem('cso-not-found', `no organisation ${id}`);
    return view;
  };

  /** After an accepted change, the CSO as the read model now shows it (the dispatch waited for it). */
  const answerWithView = async (reply: FastifyReply, dispatched: Dispatched, commandId: string, id: string, status: number) => {
    const view =
      dispatched.state === 'decided' && dispatched.outcome.result.status === 'accepted'
        ? await context.csos.get(context.redis, id, context.now().toISOString())
        : null;
    return answer(reply, dispatched, commandId, (receipt) => ({ status, body: view ?? receipt }));
  };

  return async (app) => {
    app.post(
      '/v1/csos',
      {
        schema: {
          summary: 'Accredit a civil-society organisation and issue its API key (secretariat)',
          tags: ['csos'],
          headers: IdempotencyHeaders,
          body: AccreditCsoBody,
          response: { 201: CsoResponse, 202: AccreditPending, '4xx': Problem },
        },
      },
      async (request, reply) => {
        const principal = requireKind(request, 'secretariat');
        const idempotencyKey = request.headers['idempotency-key'];
        const id = idempotencyKey ? deterministicUuid(`cso:${principal.kind}:${principal.id}:${idempotencyKey}`) : randomUUID();
        const secret = newSecret();
        const keyHash = sha256Hex(secret);
        const started = Date.now();
        const command = csoCommandFor(request, context, 'cso.accredit', id, {
          ...request.body,
          keyId: `cso-${randomBytes(4).toString('hex')}`,
          keyHash,
        });
        const dispatched = await context.bus.dispatchTo(context.csoRoute, command);
        if (dispatched.state === 'pending') {
          // The secret exists only in this response: hand it over with the status URL.
          const statusUrl = `/v1/commands/${command.id}`;
          return reply.code(202).header('location', statusUrl).send({ status: 'pending', commandId: command.id, statusUrl, id, apiKey: secret });
        }
        const result = dispatched.outcome.result;
        if (result.status === 'accepted' && !result.replayed) {
          // The key must work when the 201 arrives: wait (within the same budget) for its projection.
          const deadline = started + Math.max(context.bus.timeoutMs, 1_000);
          while ((await context.readModel.principalByKeyHash(context.redis, keyHash)) === null) {
            if (Date.now() > deadline) {
              const statusUrl = `/v1/commands/${command.id}`;
              return reply.code(202).header('location', statusUrl).send({ status: 'pending', commandId: command.id, statusUrl, id, apiKey: secret });
            }
            await new Promise((r) => setTimeout(r, 20));
          }
        }
        const view = result.status === 'accepted' ? await context.csos.get(context.redis, id, context.now().toISOString()) : null;
        return answer(reply, dispatched, command.id, (receipt, replayed) => ({
          status: 201,
          // A replayed accreditation does not show a key again: only the first answer carries it.
          body: { ...(view ?? receipt), ...(replayed ? {} : { apiKey: secret }) },
          location: `/v1/csos/${id}`,
        }));
      },
    );

    app.post(
      '/v1/csos/:id/renewal',
      {
        schema: {
          summary: 'Renew an accreditation until a new date (secretariat); a lapsed one becomes accredited again',
          tags: ['csos'],
          params: IdParams,
          body: RenewalBody,
          response: { 200: CsoResponse, 202: Pending, '4xx': Problem },
        },
      },
      async (request, reply) => {
        requireKind(request, 'secretariat');
        await existing(request.params.id);
        const command = csoCommandFor(request, context, 'cso.renew-accreditation', request.params.id, request.body);
        const dispatched = await context.bus.dispatchTo(context.csoRoute, command);
        return answerWithView(reply, dispatched, command.id, request.params.id, 200);
      },
    );

    app.post(
      '/v1/csos/:id/revocation',
      {
        schema: {
          summary: 'Revoke an accreditation and its API key (secretariat)',
          tags: ['csos'],
          params: IdParams,
          body: RevocationBody,
          response: { 200: CsoResponse, 202: Pending, '4xx': Problem },
        },
      },
      async (request, reply) => {
        requireKind(request, 'secretariat');
        await existing(request.params.id);
        const command = csoCommandFor(request, context, 'cso.revoke-accreditation', request.params.id, request.body);
        const dispatched = await context.bus.dispatchTo(context.csoRoute, command);
        return answerWithView(reply, dispatched, command.id, request.params.id, 200);
      },
    );

    app.get(
      '/v1/csos',
      {
        schema: {
          summary: 'Accredited organisations in order of accreditation (secretariat, auditors; an organisation sees itself)',
          tags: ['csos'],
          querystring: ListCsosQuery,
          response: { 200: CsoList, '4xx': Problem },
        },
      },
      async (request) => {
        const limit = Number(request.query.limit ?? 50);
        const offset = Number(request.query.offset ?? 0);
        const principal = request.principal;
        if (principal.kind === 'cso') {
          const own = await context.csos.get(context.redis, principal.id, context.now().toISOString());
          const items = own && offset === 0 ? [own] : [];
          return { items, total: own ? 1 : 0, offset, limit };
        }
        requireKind(request, 'secretariat', 'auditor');
        const { items, total } = await context.csos.list(context.redis, context.now().toISOString(), { offset, limit });
        return { items, total, offset, limit };
      },
    );

    app.get(
      '/v1/csos/:id',
      {
        schema: {
          summary: 'One organisation and the state of its accreditation',
          tags: ['csos'],
          params: IdParams,
          response: { 200: CsoResponse, '4xx': Problem },
        },
      },
      async (request) => {
        readableCso(request, request.params.id);
        return existing(request.params.id);
      },
    );
  };
}
