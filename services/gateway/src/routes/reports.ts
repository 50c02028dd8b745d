import { consultationEventCodec, Rfc3339 } from '@consult/contracts';
import type { CsoReadModel } from '@consult/read-models';
import { computeProgressReport, reportToCsv, reportToPdf, type ProgressReport } from '@consult/reports';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireKind } from '../auth.js';
import type { GatewayContext } from '../context.js';
import { HttpProblem } from '../problems.js';
import { Problem } from '../schemas.js';

const DEFAULT_PERIOD_MS = 365 * 86_400_000;

export const ReportQuery = Type.Object(
  {
    /** Start of the period (inclusive); default: a year before `to`. */
    from: Type.Optional(Rfc3339),
    /** End of the period (exclusive); default: now. */
    to: Type.Optional(Rfc3339),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv'), Type.Literal('pdf')], { description: 'default json' })),
    lang: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('ru'), Type.Literal('kk')], { description: 'PDF language, default en' })),
  },
  { additionalProperties: false },
);

const Share = Type.Number({ minimum: 0, maximum: 1 });
const Seconds = Type.Union([Type.Number(), Type.Null()]);
const MaybeShare = Type.Union([Share, Type.Null()]);

export const ProgressReportResponse = Type.Object({
  period: Type.Object({ from: Type.String(), to: Type.String() }),
  totals: Type.Object({
    consultations: Type.Integer(),
    addressed: Type.Integer(),
    responded: Type.Integer(),
    responseRate: Share,
    statements: Type.Integer(),
    forwarded: Type.Integer(),
    returned: Type.Integer(),
  }),
  memberStates: Type.Array(
    Type.Object({
      memberState: Type.String(),
      consultations: Type.Integer(),
      responded: Type.Integer(),
      responseRate: Share,
      medianResponseSeconds: Seconds,
      onTimeShare: MaybeShare,
      remindersBeforeResponse: Type.Union([Type.Number(), Type.Null()]),
      extensions: Type.Integer(),
    }),
  ),
  consultations: Type.Array(
    Type.Object({
      id: Type.String(),
      reference: Type.String(),
      title: Type.String(),
      openedAt: Type.String(),
      deadline: Type.String(),
      status: Type.String(),
      addressees: Type.Integer(),
      responded: Type.Integer(),
      responseRate: Share,
      medianResponseSeconds: Seconds,
      onTimeShare: MaybeShare,
      remindersBeforeResponse: Type.Union([Type.Number(), Type.Null()]),
      remindersIssued: Type.Integer(),
      extensions: Type.Integer(),
      pending: Type.Array(Type.String()),
      silenceOutcome: Type.Union([Type.Literal('deemed-adopted'), Type.Literal('silence-broken'), Type.Null()], {
        description: "Under silence procedure once closed, the outcome in force at the period's end (a revision after the closing included); otherwise null",
      }),
    }),
  ),
  csos: Type.Array(
    Type.Object({
      csoId: Type.String(),
      name: Type.String(),
      submitted: Type.Integer(),
      forwarded: Type.Integer(),
      returned: Type.Integer(),
      inReview: Type.Integer(),
      medianReviewSeconds: Seconds,
    }),
  ),
});

/**
 * `GET /v1/reports/progress`: progress figures for a period (secretariat and auditors), computed from each
 * consultation's event history as produced (`cons:<id>:history`, decoded with the upcasters) and from each
 * statement's transitions, by the pure `computeProgressReport`; as JSON, CSV or PDF.
 */
export function reportRoutes(context: GatewayContext & { csos: CsoReadModel; now: () => Date }): FastifyPluginAsyncTypebox {
  const { redis, readModel, csos } = context;

  async function progress(from: string, to: string): Promise<ProgressReport> {
    const fromMs = Date.parse(from);
    const toMs = Date.parse(to);
    const ids = await readModel.openedBetween(redis, fromMs, toMs);
    const histories = await Promise.all(
      ids.map(async (id) => (await readModel.fullHistory(redis, id)).map((raw) => consultationEventCodec.decode(raw))),
    );
    const statements = await csos.statementsReceivedBetween(redis, fromMs, toMs);
    const csoIds = [...new Set(statements.map((s) => s.csoId))];
    const now = context.now().toISOString();
    const names = Object.fromEntries(
      await Promise.all(csoIds.map(async (id) => [id, (await csos.get(redis, id, now))?.name ?? id] as const)),
    );
    return computeProgressReport({ period: { from, to }, consultations: histories, statements, csoNames: names });
  }

  return async (app) => {
    app.get(
      '/v1/reports/progress',
      {
        schema: {
          summary: 'Progress for a period: per member state, consultation and CSO (secretariat, auditors); JSON, CSV or PDF',
          tags: ['reports'],
          querystring: ReportQuery,
          response: { 200: ProgressReportResponse, '4xx': Problem },
        },
      },
      async (request, reply) => {
        requireKind(request, 'secretariat', 'auditor');
        const to = new Date(request.query.to ?? context.now().toISOString()).toISOString();
        const from = new Date(request.query.from ?? Date.parse(to) - DEFAULT_PERIOD_MS).toISOString();
        if (Date.parse(from) >= Date.parse(to))
          throw new HttpProblem('validation-failed', `the period must end after it starts (from ${from}, to ${to})`);
        const report = await progress(from, to);
        const name = `progress-${from.slice(0, 10)}-${to.slice(0, 10)}`;
        // The 200 schema describes the JSON form; the CSV and PDF forms are sent as they are, unserialised.
        const file = (body: string | Buffer): ProgressReport => body as unknown as ProgressReport;
        switch (request.query.format ?? 'json') {
          case 'csv':
            return reply
              .type('text/csv; charset=utf-8')
              .header('content-disposition', `attachment; filename="${name}.csv"`)
              .send(file(reportToCsv(report)));
          case 'pdf':
            return reply
              .type('application/pdf')
              .header('content-disposition', `attachment; filename="${name}.pdf"`)
              .send(file(await reportToPdf(report, request.query.lang ?? 'en')));
          default:
            return report;
        }
      },
    );
  };
}
