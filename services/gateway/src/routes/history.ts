import { consultationEventCodec, Rfc3339, Sha256Hex, Uuid } from '@consult/contracts';
import { consultationAsOf, type ConsultationView } from '@consult/domain';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { requireKind } from '../auth.js';
import type { GatewayContext } from '../context.js';
import { HttpProblem } from '../problems.js';
import { IdParams, Problem } from '../schemas.js';

/**
 * Audit: the full history of a consultation and its state at any past moment, for auditors and the
 * Secretariat. History items are the events exactly as produced, with their chain (`sequence`, `previousHash`,
 * `hash`), so a reader can verify them; the schema names the envelope and lets every other field through.
 */
export const AUDIT_KINDS = ['auditor', 'secretariat'] as const;

export const HistoryQuery = Type.Object(
  {
    after: Type.Optional(Type.String({ pattern: '^\\d{1,12}$', description: 'Sequence to start after (exclusive)' })),
    limit: Type.Optional(Type.String({ pattern: '^(?:[1-9]\\d{0,2}|1000)$', description: '1 to 1000, default 100' })),
  },
  { additionalProperties: false },
);

export const HistoryEvent = Type.Object(
  {
    id: Uuid,
    type: Type.String(),
    version: Type.Integer(),
    key: Type.String(),
    occurredAt: Rfc3339,
    sequence: Type.Integer({ minimum: 1 }),
    previousHash: Type.Union([Sha256Hex, Type.Null()]),
    hash: Sha256Hex,
    data: Type.Unknown(),
  },
  { additionalProperties: true, description: 'A consultation event as produced, with its hash chain' },
);

export type HistoryEvent = Static<typeof HistoryEvent>;

export const HistoryPage = Type.Object({
  items: Type.Array(HistoryEvent),
  next: Type.Union([Type.String(), Type.Null()], { description: 'Cursor for the next page (pass as ?after=)' }),
});

/** The consultation as it stood at `asOf`, replayed from its history through the domain's evolve/viewOf. */
export async function consultationAsOfRequest(
  request: FastifyRequest,
  context: GatewayContext,
  id: string,
  asOf: string,
): Promise<ConsultationView & { asOf: string }> {
  requireKind(request, ...AUDIT_KINDS);
  const raw = await context.readModel.fullHistory(context.redis, id);
  const view = consultationAsOf(
    raw.map((r) => consultationEventCodec.decode(r)),
    asOf,
  );
  if (!view) throw new HttpProblem('consultation-not-found', `consultation ${id} did not exist at ${asOf}`);
  return { ...view, asOf };
}

export function historyRoutes(context: GatewayContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/consultations/:id/history',
      {
        schema: {
          summary: 'Every event of a consultation in sequence order, with its hash chain (auditors, secretariat)',
          tags: ['audit'],
          params: IdParams,
          querystring: HistoryQuery,
          response: { 200: HistoryPage, '4xx': Problem },
        },
      },
      async (request) => {
        requireKind(request, ...AUDIT_KINDS);
        const { id } = request.params;
        const limit = Number(request.query.limit ?? 100);
        const after = Number(request.query.after ?? 0);
        const page = await context.readModel.historyPage(context.redis, id, { after, limit });
        if (page.length === 0 && after === 0) throw new HttpProblem('consultation-not-found', `no consultation ${id}`);
        const items = page.map((r) => JSON.parse(r) as { sequence: number } & Record<string, unknown>);
        const last = items[items.length - 1];
        return {
          items: items as unknown as (typeof HistoryEvent.static)[],
          next: items.length === limit && last ? String(last.sequence) : null,
        };
      },
    );
  };
}
