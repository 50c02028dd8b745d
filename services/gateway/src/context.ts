import { randomUUID } from 'node:crypto';
import type { AttachmentStore } from '@consult/attachments';
import type { ConsultationCommandOf, ConsultationCommandType } from '@consult/contracts';
import type { ConsultationReadModel } from '@consult/read-models';
import type { Redis } from '@consult/redis';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CommandBus, Dispatched } from './command-bus.js';
import { HttpProblem, isProblemCode, sendProblem } from './problems.js';

/** What the routes need; built once in app.ts. */
export interface GatewayContext {
  redis: Redis;
  readModel: ConsultationReadModel;
  bus: CommandBus;
  instanceId: string;
  consultations: KnownConsultations;
  /** Content-addressed file storage behind attachments (packages/attachments). */
  attachments: AttachmentStore;
}

/**
 * Whether a consultation exists, remembered once seen: consultations are never deleted, so a positive answer
 * stays true and posting a comment costs no read-model lookup. Unknown ids are asked each time.
 */
export class KnownConsultations {
  private readonly known = new Set<string>();
  constructor(
    private readonly redis: Redis,
    private readonly readModel: ConsultationReadModel,
    private readonly capacity = 100_000,
  ) {}

  async exists(id: string): Promise<boolean> {
    if (this.known.has(id)) return true;
    const found = await this.readModel.exists(this.redis, id);
    if (found) {
      if (this.known.size >= this.capacity) this.known.clear();
      this.known.add(id);
    }
    return found;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** When this gateway received the request: the one clock on-time decisions use. */
    receivedAt: string;
  }
}

/**
 * The envelope every command gets from the gateway: a fresh id, the request's receipt time (the one clock
 * on-time decisions use), its actor and correlation id. Callers narrow it to their stream's command type.
 */
export function stampedCommand(request: FastifyRequest, instanceId: string, type: string, key: string, data: unknown) {
  const correlation = request.headers['x-correlation-id'];
  return {
    id: randomUUID(),
    type,
    version: 1 as const,
    key,
    receivedAt: request.receivedAt,
    correlationId: typeof correlation === 'string' && correlation.length > 0 ? correlation.slice(0, 128) : request.id,
    actor: { kind: request.principal.kind, id: request.principal.id },
    replyTo: instanceId,
    data,
  };
}

/** A consultation command stamped by this gateway. */
export function commandFor<T extends ConsultationCommandType>(
  request: FastifyRequest,
  context: GatewayContext,
  type: T,
  key: string,
  data: ConsultationCommandOf<T>['data'],
): ConsultationCommandOf<T> {
  return stampedCommand(request, context.instanceId, type, key, data) as unknown as ConsultationCommandOf<T>;
}

/**
 * Answers a dispatched command: the success status with the rendered receipt, a problem for a rejection, or
 * 202 with a status URL when the decision did not become visible in time (the command is durably queued).
 */
export function answer(
  reply: FastifyReply,
  dispatched: Dispatched,
  commandId: string,
  onAccepted: (receipt: Record<string, unknown>, replayed: boolean) => { status: number; body: unknown; location?: string },
): FastifyReply {
  if (dispatched.state === 'pending') {
    const statusUrl = `/v1/commands/${commandId}`;
    return reply.code(202).header('location', statusUrl).send({ status: 'pending', commandId, statusUrl });
  }
  const result = dispatched.outcome.result;
  if (result.status === 'rejected') {
    const code = isProblemCode(result.code) ? result.code : 'internal';
    return sendProblem(reply, new HttpProblem(code, result.detail), reply.request.url);
  }
  const { status, body, location } = onAccepted(result.receipt, result.replayed);
  if (location) reply.header('location', location);
  if (result.replayed) reply.header('idempotent-replayed', 'true');
  return reply.code(status).send(body);
}
