import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Problem } from '../schemas.js';

export const PrincipalResponse = Type.Object({
  kind: Type.String({ description: 'secretariat, member-state, cso, standing-committee or auditor' }),
  id: Type.String({ description: 'e.g. the member state code or the CSO id' }),
  name: Type.Optional(Type.String()),
});

/** `GET /v1/me`: who the API key belongs to, so a client (the console) can show what this principal may do. */
export function principalRoutes(): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/me',
      {
        schema: {
          summary: 'The principal the API key belongs to',
          tags: ['keys'],
          response: { 200: PrincipalResponse, '4xx': Problem },
        },
      },
      async (request) => {
        const { kind, id, name } = request.principal;
        return name === undefined ? { kind, id } : { kind, id, name };
      },
    );
  };
}
