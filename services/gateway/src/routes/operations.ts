import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { PROBLEM_KINDS, HttpProblem, isProblemCode } from '../problems.js';
import type { ReadinessProbe } from '../readiness.js';

/** Liveness, readiness and the problem-type documentation that problem documents link to. */
export function operationsRoutes(readiness: ReadinessProbe): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/healthz', { schema: { tags: ['operations'], summary: 'The process is alive' } }, async () => ({
      status: 'ok',
    }));

    app.get('/readyz', { schema: { tags: ['operations'], summary: 'Kafka and Redis reachable, consumers caught up' } }, async (_request, reply) => {
      const state = await readiness.check();
      return reply.code(state.ready ? 200 : 503).send(state);
    });

    app.get(
      '/problems/:code',
      {
        schema: {
          tags: ['operations'],
          summary: 'What a problem type means',
          params: Type.Object({ code: Type.String({ maxLength: 64 }) }),
        },
      },
      async (request) => {
        const { code } = request.params;
        if (!isProblemCode(code)) throw new HttpProblem('not-found', `no problem type ${code}`);
        return { type: `/problems/${code}`, code, ...PROBLEM_KINDS[code] };
      },
    );
  };
}
