import { sha256Hex } from '@consult/contracts';
import type { ApiKeyRecord, ConsultationReadModel, Principal } from '@consult/read-models';
import type { RedisClient as Redis } from '@consult/redis';
import type { FastifyRequest } from 'fastify';
import { HttpProblem } from './problems.js';

export type { Principal } from '@consult/read-models';
export type PrincipalKind = Principal['kind'];

interface CacheEntry {
  record: ApiKeyRecord | null;
  expiresAt: number;
}

/** A key that was valid once: revoked, or past its expiry. Answered 401, except where a route says better. */
export class KeyNoLongerValid extends HttpProblem {
  constructor(
    readonly principal: Principal,
    readonly reason: 'revoked' | 'expired',
    at: string,
  ) {
    super('unauthorized', reason === 'revoked' ? `the API key was revoked at ${at}` : `the API key expired at ${at}`);
  }
}

/** A key that works now: its principal, its SHA-256 hash (how the directory names it) and when it expires, if ever. */
export interface AuthenticatedKey {
  principal: Principal;
  keyHash: string;
  expiresAt?: string;
}

export interface KeyDirectoryOptions {
  /** How long a key's record is cached in process; revocations and expiry changes evict it at once. */
  ttlMs?: number;
  /** Production: refuse the well-known development keys (key ids `dev-*`) even if someone issued them. */
  refuseDevelopmentKeys?: boolean;
}

/**
 * Finds the principal of an API key. Keys are stored as SHA-256 hashes in the read model (rebuilt from the
 * identity topic); a short in-process cache keeps authentication off Redis on the hot path. The cache is
 * not what makes a revocation take effect: every gateway evicts a key as soon as the projector announces its
 * `identity.*` event (`evict`), and expiry is checked on every request against the clock.
 */
export class KeyDirectory {
  private readonly cache = new Map<string, CacheEntry>();
  /** Bumped by every eviction: a lookup that started before one must not cache what it read. */
  private generation = 0;
  private readonly ttlMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly readModel: ConsultationReadModel,
    private readonly options: KeyDirectoryOptions = {},
    private readonly now: () => Date = () => new Date(),
    /** Whether the key directory holds the identity topic at all (false while it is rebuilt after a flush). */
    private readonly directoryLoaded: () => Promise<boolean> = async () => true,
  ) {
    this.ttlMs = options.ttlMs ?? 5_000;
  }

  /**
   * Forgets what is cached of this key (its record changed). An issued key only replaces a cached "unknown":
   * a rebuild after a flush re-announces every key, and a working key must not be re-read meanwhile.
   */
  evict(keyHash: string, issued = false): void {
    if (issued && this.cache.get(keyHash)?.record) return;
    this.generation++;
    this.cache.delete(keyHash);
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    return (await this.authenticateKey(authorization)).principal;
  }

  /** The principal of a working key, with what a long-lived response needs to follow it: its hash and expiry. */
  async authenticateKey(authorization: string | undefined): Promise<AuthenticatedKey> {
    const match = authorization ? /^Bearer\s+([\x21-\x7E]{16,256})$/i.exec(authorization) : null;
    if (!match?.[1]) throw new HttpProblem('unauthorized', 'send Authorization: Bearer <api key>');
    const hash = sha256Hex(match[1]);
    const now = this.now().getTime();
    let entry = this.cache.get(hash);
    if (!entry || entry.expiresAt < now) {
      const generation = this.generation;
      let record = await this.readModel.apiKeyRecord(this.redis, hash);
      if (!record) {
        // A key the directory does not hold because the directory itself is being rebuilt (Redis was flushed
        // or restarted) is not unknown: the caller should retry, not drop its key.
        if (!(await this.directoryLoaded()))
          throw new HttpProblem('service-unavailable', 'the API key directory is being rebuilt from Kafka; retry shortly');
        // The rebuild writes the keys and its offset in one step: if it landed between the two reads above,
        // the key is there now.
        record = await this.readModel.apiKeyRecord(this.redis, hash);
      }
      // Unknown keys are cached briefly too, so a flood of bad keys does not become a flood of Redis reads.
      entry = { record, expiresAt: now + (record ? this.ttlMs : 1_000) };
      if (generation === this.generation) {
        if (this.cache.size > 10_000) this.cache.clear();
        this.cache.set(hash, entry);
      }
    }
    const record = entry.record;
    if (!record) throw new HttpProblem('unauthorized', 'the API key is unknown');
    if (record.revokedAt) throw new KeyNoLongerValid(record.principal, 'revoked', record.revokedAt);
    if (record.expiresAt && Date.parse(record.expiresAt) <= now) throw new KeyNoLongerValid(record.principal, 'expired', record.expiresAt);
    if (this.options.refuseDevelopmentKeys && record.principal.keyId.startsWith('dev-'))
      throw new HttpProblem('unauthorized', 'development keys are refused in production');
    return { principal: record.principal, keyHash: hash, ...(record.expiresAt ? { expiresAt: record.expiresAt } : {}) };
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
    /** The key the request authenticated with (unset on public routes). */
    apiKey: AuthenticatedKey;
  }
}

export function requireKind(request: FastifyRequest, ...kinds: PrincipalKind[]): Principal {
  const principal = request.principal;
  if (!kinds.includes(principal.kind))
    throw new HttpProblem('forbidden', `this needs a ${kinds.join(' or ')} key; yours is ${principal.kind}`);
  return principal;
}
