import { csoEventCodec, Sha256Hex } from '@consult/contracts';
import { Type } from '@sinclair/typebox';
import { statementAsOf, type StatementAsOfView } from '@consult/domain';
import type { StatementView } from '@consult/read-models';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { requireKind } from '../auth.js';
import { HttpProblem } from '../problems.js';
import { IdParams, Problem } from '../schemas.js';
import type { CsoContext } from './csos.js';
import { HistoryEvent, HistoryPage, HistoryQuery } from './history.js';

/**
 * Audit of a statement: its hash-chained history and its state at a past moment, for the Secretariat, auditors,
 * the organisation itself (its own statements) and the organisations that co-sign it; another organisation's is
 * a 404, as for reads.
 *
 * A statement's events live in its organisation's stream (key = CSO id), chained with the organisation's other
 * events. Its history is therefore that stream from sequence 1 up to the statement's latest event: exactly
 * what an outside verifier (docs/audit-export.md) needs to recompute every hash, and nothing after it. A
 * co-signer gets the same chain with every event that is not about this statement (the lead's accreditation,
 * its other statements) withheld down to its place in the chain (`redacted`): the co-signer recomputes the
 * hashes of the events it may see and checks that the others link them, learning nothing of what they say.
 */
async function auditable(request: FastifyRequest, context: CsoContext, id: string): Promise<{ statement: StatementView; coSigner: boolean }> {
  const principal = requireKind(request, 'secretariat', 'auditor', 'cso');
  const statement = await context.csos.statementById(context.redis, id);
  const coSigner = principal.kind === 'cso' && statement !== null && statement.csoId !== principal.id && (statement.coSigners?.some((c) => c.csoId === principal.id) ?? false);
  if (!statement || (principal.kind === 'cso' && statement.csoId !== principal.id && !coSigner))
    throw new HttpProblem('statement-not-found', `no statement ${id}`);
  return { statement, coSigner };
}

/** An event a co-signer may not read, reduced to its place in the chain (docs/audit-export.md, "withheld"). */
export interface RedactedHistoryEvent {
  key: string;
  sequence: number;
  previousHash: string | null;
  hash: string;
  redacted: true;
}

export const RedactedHistoryEventSchema = Type.Object(
  {
    key: Type.String(),
    sequence: Type.Integer({ minimum: 1 }),
    previousHash: Type.Union([Sha256Hex, Type.Null()]),
    hash: Sha256Hex,
    redacted: Type.Literal(true),
  },
  { description: "An event of the organisation's stream the caller (a co-signer) may not read: only its place in the hash chain" },
);

/** Statement history: the events as produced, and, for a co-signer, withheld ones in their place. */
export const StatementHistoryPage = Type.Object({
  items: Type.Array(Type.Union([HistoryEvent, RedactedHistoryEventSchema])),
  next: HistoryPage.properties.next,
});

type ChainedItem = { key: string; sequence: number; previousHash: string | null; hash: string; data?: unknown } & Record<string, unknown>;

export function withheldUnlessAbout(statementId: string, event: ChainedItem): ChainedItem | RedactedHistoryEvent {
  if ((event.data as { statementId?: unknown } | undefined)?.statementId === statementId) return event;
  return { key: event.key, sequence: event.sequence, previousHash: event.previousHash, hash: event.hash, redacted: true };
}

/** The statement as it stood at `asOf`, replayed from its organisation's stream through the domain's evolveCso. */
export async function statementAsOfRequest(
  request: FastifyRequest,
  context: CsoContext,
  id: string,
  asOf: string,
): Promise<StatementAsOfView & { asOf: string }> {
  const { statement } = await auditable(request, context, id);
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
            "A statement's hash-chained history: its organisation's stream up to the statement's latest event, as produced (secretariat, auditors, the organisation; for a co-signer, the events not about this statement withheld to their place in the chain)",
          tags: ['audit', 'cso-statements'],
          params: IdParams,
          querystring: HistoryQuery,
          response: { 200: StatementHistoryPage, '4xx': Problem },
        },
      },
      async (request) => {
        const { statement, coSigner } = await auditable(request, context, request.params.id);
        const limit = Number(request.query.limit ?? 100);
        const after = Number(request.query.after ?? 0);
        const upTo = await context.csos.lastSequenceOf(context.redis, statement.statementId);
        const page = await context.csos.streamHistoryPage(context.redis, statement.csoId, { after, limit, upTo });
        const items = page.map((r) => JSON.parse(r) as ChainedItem);
        const last = items[items.length - 1];
        return {
          items: (coSigner ? items.map((e) => withheldUnlessAbout(statement.statementId, e)) : items) as unknown as HistoryEvent[],
          next: last && last.sequence < upTo ? String(last.sequence) : null,
        };
      },
    );
  };
}
