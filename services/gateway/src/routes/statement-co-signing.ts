import type { StatementView } from '@consult/read-models';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requireKind } from '../auth.js';
import { answer } from '../context.js';
import { HttpProblem } from '../problems.js';
import { IdParams, Pending, Problem } from '../schemas.js';
import { csoCommandFor, type CsoContext } from './csos.js';
import { CoSignatureRefusalBody, StatementResponse } from './statement-schemas.js';

/**
 * A pending co-signer whose accreditation has lapsed or was revoked cannot confirm (its own writer refuses it),
 * so the statement is blocked: said on the view, at read time, so a renewal unblocks it just as it happens.
 */
export async function withCoSignerStanding(context: CsoContext, view: StatementView): Promise<StatementView> {
  if (!view.coSigners || view.status !== 'awaiting-co-signatures') return view;
  const now = context.now().toISOString();
  const coSigners = await Promise.all(
    view.coSigners.map(async (c) => {
      if (c.status !== 'pending') return c;
      const cso = await context.csos.get(context.redis, c.csoId, now);
      if (!cso) return { ...c, blocked: `co-signer ${c.csoId} is not a known organisation` };
      if (cso.status === 'revoked') return { ...c, blocked: `the accreditation of ${cso.name} was revoked at ${cso.revokedAt ?? ''}: it cannot co-sign` };
      if (cso.status === 'lapsed') return { ...c, blocked: `the accreditation of ${cso.name} lapsed at ${cso.accreditedUntil}: it cannot co-sign` };
      return c;
    }),
  );
  return { ...view, coSigners };
}

/**
 * Co-signing by a named organisation, with its own key: the command goes to the co-signer's own stream (its
 * writer checks its accreditation); that writer sends the record of it to the lead's stream in the same
 * transaction. The answer waits (bounded) until the statement shows it, so the next read sees it.
 */
export function coSigningRoutes(context: CsoContext, readable: (request: FastifyRequest, id: string) => Promise<StatementView>): FastifyPluginAsyncTypebox {
  const decide = async (request: FastifyRequest, reply: FastifyReply, id: string, decision: 'confirmed' | 'declined', reason?: string) => {
    const principal = requireKind(request, 'cso');
    const statement = await readable(request, id);
    const named = statement.coSigners?.find((c) => c.csoId === principal.id);
    if (!named) throw new HttpProblem('not-a-co-signer', `statement ${statement.trackingNumber} does not name your organisation as a co-signer`);
    // A retry of what was recorded is answered as before (the writers replay it); anything else needs a statement
    // still waiting for co-signatures. (A decline racing a confirmation is settled by the lead's writer.)
    if (named.status !== decision && (named.status !== 'pending' || statement.status !== 'awaiting-co-signatures'))
      throw new HttpProblem(
        'illegal-transition',
        `statement ${statement.trackingNumber} is ${statement.status} and your co-signature ${named.status}: it cannot become ${decision}`,
        { currentState: statement.status },
      );
    const command =
      decision === 'confirmed'
        ? csoCommandFor(request, context, 'cso.co-sign-statement', principal.id, { statementId: id, leadCsoId: statement.csoId })
        : csoCommandFor(request, context, 'cso.refuse-co-signature', principal.id, {
            statementId: id,
            leadCsoId: statement.csoId,
            ...(reason !== undefined ? { reason } : {}),
          });
    const dispatched = await context.bus.dispatchTo(context.csoRoute, command);
    let view: StatementView | null = null;
    if (dispatched.state === 'decided' && dispatched.outcome.result.status === 'accepted') {
      // The lead's stream records it right after the co-signer's transaction commits.
      const deadline = Date.now() + 5_000;
      for (;;) {
        view = await context.csos.statementById(context.redis, id);
        const now = view?.coSigners?.find((c) => c.csoId === principal.id);
        if (now?.status !== 'pending' || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const shown = view ? await withCoSignerStanding(context, view) : null;
    return answer(reply, dispatched, command.id, (receipt) => ({ status: 200, body: shown ?? receipt }));
  };

  const schema = (summary: string) => ({
    summary,
    tags: ['cso-statements'],
    params: IdParams,
    response: { 200: StatementResponse, 202: Pending, '4xx': Problem },
  });

  return async (app) => {
    app.post(
      '/v1/cso-statements/:id/co-signature',
      {
        schema: schema('Co-sign a statement that names your organisation (a named, accredited CSO); the last co-signature puts it in the review queue'),
        preValidation: async (request) => {
          request.body ??= {};
        },
      },
      async (request, reply) => decide(request, reply, request.params.id, 'confirmed'),
    );

    app.post(
      '/v1/cso-statements/:id/co-signature/refusal',
      {
        schema: { ...schema('Decline to co-sign a statement that names your organisation; the statement goes no further'), body: CoSignatureRefusalBody },
        preValidation: async (request) => {
          request.body ??= {};
        },
      },
      async (request, reply) => decide(request, reply, request.params.id, 'declined', request.body.reason),
    );
  };
}
