import { randomUUID } from 'node:crypto';
import type { AttachmentStore } from '@consult/attachments';
import type { ConsultationCommandOf, ConsultationCommandType } from '@consult/contracts';
import type { ConsultationReadModel } from '@consult/read-models';
import type { RedisClient as Redis } from '@consult/redis';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CommandDispatcher, Dispatched } from './command-bus.js';
import { HttpProblem, isProblemCode, sendProblem } from './problems.js';
import type { SentCommands } from './sent-commands.js';

/** What the routes need; built once in app.ts. */
export interface GatewayContext {
  redis: Redis;
  readModel: ConsultationReadModel;
  bus: CommandDispatcher;
  instanceId: string;
  consultations: KnownConsultations;
  sentCommands: SentCommands;
  /** Time zones: configured member states' (over the defaults) and the Secretariat's. */
  zones: ZoneSettings;
  /** Content-addressed file storage behind attachments (packages/attachments). */
  attachments: AttachmentStore;
}

export interface ZoneSettings {
  memberStates: Readonly<Record<string, string>>;
  secretariat: string;
}

/**
 * Whether a consultation exists and to whom it is addressed, remembered once seen: consultations are never
 * deleted and their addressees never change, so posting a comment costs no read-model lookup. Unknown ids are
 * asked each time.
 */
export class KnownConsultations {
  private readonly known = new Map<string, ReadonlySet<string>>();
  constructor(
    private readonly redis: Redis,
    private readonly readModel: ConsultationReadModel,
    private readonly capacity = 100_000,
  ) {}

  async exists(id: string): Promise<boolean> {
    return (await this.addresseesOf(id)) !== null;
  }

  async isAddressee(id: string, memberState: string): Promise<boolean> {
    return (await this.addresseesOf(id))?.has(memberState) ?? false;
  }

  private async addresseesOf(id: string): Promise<ReadonlySet<string> | null> {
    const known = this.known.get(id);
    if (known) return known;
    const view = await this.readModel.get(this.redis, id);
    if (!view) return null;
    const addressees = new Set(view.addressees);
    if (this.known.size >= this.capacity) this.known.clear();
    this.known.set(id, addressees);
    return addressees;
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
    // Only a plain token is copied into events; anything else is replaced by the request id.
    correlationId: typeof correlation === 'string' && /^[\x21-\x7E]{1,128}$/.test(correlation) ? correlation : request.id,
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
