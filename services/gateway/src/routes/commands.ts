import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { GatewayContext } from '../context.js';
import { HttpProblem, isProblemCode } from '../problems.js';
import { CommandStatus, CommandStatusParams, Problem } from '../schemas.js';

/** The status URL a 202 points to: pending until the writer has decided, then the receipt or the problem. */
export function commandRoutes(context: GatewayContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/commands/:commandId',
      {
        schema: {
          summary: 'Status of a command answered with 202',
          tags: ['commands'],
          params: CommandStatusParams,
          response: { 200: CommandStatus, '4xx': Problem },
        },
      },
      async (request) => {
        const { commandId } = request.params;
        const principal = request.principal;
        const mayRead = (sender: { kind: string; id: string }) =>
          (sender.kind === principal.kind && sender.id === principal.id) || principal.kind === 'auditor' || principal.kind === 'secretariat';
        const [outcome, sender] = await Promise.all([
          context.readModel.outcome(context.redis, commandId),
          context.sentCommands.senderOf(commandId),
        ]);
        // Pending only if a gateway sent it; an id nobody sent, or whose record has expired, is a 404.
        if (!outcome) {
          if (!sender || !mayRead(sender)) throw new HttpProblem('command-not-found', `no command ${commandId}`);
          return { commandId, status: 'pending' as const };
        }
        if (!mayRead(outcome.actor)) throw new HttpProblem('command-not-found', `no command ${commandId}`);
        const result = outcome.result;
        if (result.status === 'accepted')
          return { commandId, status: 'accepted' as const, decidedAt: outcome.decidedAt, receipt: result.receipt };
        const problem = new HttpProblem(isProblemCode(result.code) ? result.code : 'internal', result.detail);
        return { commandId, status: 'rejected' as const, decidedAt: outcome.decidedAt, problem: problem.toDocument() };
      },
    );
  };
}
