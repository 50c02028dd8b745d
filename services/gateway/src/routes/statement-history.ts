import { csoEventCodec } from '@consult/contracts';
import { statementAsOf, type StatementAsOfView } from '@consult/domain';
import type { StatementView } from '@consult/read-models';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { requireKind } from '../auth.js';
import { HttpProblem } from '../problems.js';
import { IdParams, Problem } from '../schemas.js';
import type { CsoContext } from './csos.js';
import { HistoryPage, HistoryQuery, type HistoryEvent } from './history.js';

/**
 * Audit of a statement: its hash-chained history and its state at a past moment, for the Secretariat, auditors
 * and the organisation itself (its own statements; another organisation's is a 404, as for reads).
 *
 * A statement's events live in its organisation's stream (key = CSO id), chained with the organisation's other
 * events. Its history is therefore that stream from sequence 1 up to the statement's latest event: exactly
 * what an outside verifier (docs/audit-export.md) needs to recompute every hash, and nothing after it.
 */
async function auditable(request: FastifyRequest, context: CsoContext, id: string): Promise<StatementView> {
  const principal = requireKind(request, 'secretariat', 'auditor', 'cso');
  const statement = await context.csos.statementById(context.redis, id);
  if (!statement || (principal.kind === 'cso' && statement.csoId !== principal.id))
    throw new HttpProblem('statement-not-found', `no statement ${id}`);
  return statement;
}

/** The statement as it stood at `asOf`, replayed from its organisation's stream through the domain's evolveCso. */
export async function statementAsOfRequest(
  request: FastifyRequest,
  context: CsoContext,
  id: string,
  asOf: string,
): Promise<StatementAsOfView & { asOf: string }> {
  const statement = await auditable(request, context, id);
  const raw = await context.csos.fullStreamHistory(context.redis, statement.csoId);
  const view = statementAsOf(
    raw.map((r) => csoEventCodec.decode(r)),
    id,
    asOf,
  );
  if (!view) throw new HttpProblem('statement-not-found', `statement ${id} did not exist at ${asOf}`);
  return { ...view, asOf };
}

export function statementHistoryRoutes(context: CsoContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/cso-statements/:id/history',
      {
        schema: {
          summary:
            "A statement's hash-chained history: its organisation's stream up to the statement's latest event, as produced (secretariat, auditors, the organisation)",
          tags: ['audit', 'cso-statements'],
          params: IdParams,
          querystring: HistoryQuery,
          response: { 200: HistoryPage, '4xx': Problem },
        },
      },
      async (request) => {
        const statement = await auditable(request, context, request.params.id);
        const limit = Number(request.query.limit ?? 100);
        const after = Number(request.query.after ?? 0);
        const upTo = await context.csos.lastSequenceOf(context.redis, statement.statementId);
        const page = await context.csos.streamHistoryPage(context.redis, statement.csoId, { after, limit, upTo });
        const items = page.map((r) => JSON.parse(r) as { sequence: number } & Record<string, unknown>);
        const last = items[items.length - 1];
        return {
          items: items as unknown as HistoryEvent[],
          next: last && last.sequence < upTo ? String(last.sequence) : null,
        };
      },
    );
  };
}
