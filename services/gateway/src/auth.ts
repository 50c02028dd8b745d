import { sha256Hex } from '@consult/contracts';
import type { ConsultationReadModel, Principal } from '@consult/read-models';
import type { Redis } from '@consult/redis';
import type { FastifyRequest } from 'fastify';
import { HttpProblem } from './problems.js';

export type { Principal } from '@consult/read-models';
export type PrincipalKind = Principal['kind'];

interface CacheEntry {
  principal: Principal | null;
  expiresAt: number;
}

/**
 * Finds the principal of an API key. Keys are stored as SHA-256 hashes in the read model (rebuilt from the
 * identity topic); a short in-process cache keeps authentication off Redis on the hot path, so a revoked key
 * stops working within `ttlMs`.
 */
export class KeyDirectory {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly redis: Redis,
    private readonly readModel: ConsultationReadModel,
    private readonly ttlMs = 5_000,
    /** Whether the key directory holds the identity topic at all (false while it is rebuilt after a flush). */
    private readonly directoryLoaded: () => Promise<boolean> = async () => true,
  ) {}

  async authenticate(authorization: string | undefined): Promise<Principal> {
    const match = authorization ? /^Bearer\s+([\x21-\x7E]{16,256})$/i.exec(authorization) : null;
    if (!match?.[1]) throw new HttpProblem('unauthorized', 'send Authorization: Bearer <api key>');
    const hash = sha256Hex(match[1]);
    const now = Date.now();
    let entry = this.cache.get(hash);
    if (!entry || entry.expiresAt < now) {
      let principal = await this.readModel.principalByKeyHash(this.redis, hash);
      if (!principal) {
        // A key the directory does not hold because the directory itself is being rebuilt (Redis was flushed
        // or restarted) is not unknown: the caller should retry, not drop its key.
        if (!(await this.directoryLoaded()))
          throw new HttpProblem('service-unavailable', 'the API key directory is being rebuilt from Kafka; retry shortly');
        // The rebuild writes the keys and its offset in one step: if it landed between the two reads above,
        // the key is there now.
        principal = await this.readModel.principalByKeyHash(this.redis, hash);
      }
      // Unknown keys are cached briefly too, so a flood of bad keys does not become a flood of Redis reads.
      entry = { principal, expiresAt: now + (principal ? this.ttlMs : 1_000) };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(hash, entry);
    }
    if (!entry.principal) throw new HttpProblem('unauthorized', 'the API key is unknown or revoked');
    return entry.principal;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

export function requireKind(request: FastifyRequest, ...kinds: PrincipalKind[]): Principal {
  const principal = request.principal;
  if (!kinds.includes(principal.kind))
    throw new HttpProblem('forbidden', `this needs a ${kinds.join(' or ')} key; yours is ${principal.kind}`);
  return principal;
}
