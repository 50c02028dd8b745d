import { randomBytes, randomUUID } from 'node:crypto';
import { identityEventCodec, sha256Hex, type IdentityEvent, type PrincipalKind, type TopicNames } from '@consult/contracts';
import type { BatchingProducer } from '@consult/kafka';

export interface KeyRequest {
  kind: Exclude<PrincipalKind, 'system'>;
  /** Member-state code, CSO id, or a name for the other kinds. */
  id: string;
  name?: string;
  /** Only for fixed development keys; otherwise a random secret is made. */
  secret?: string;
  keyId?: string;
}

export interface IssuedKey {
  keyId: string;
  secret: string;
  kind: KeyRequest['kind'];
  id: string;
}

const ADMIN_ACTOR = { kind: 'system', id: 'admin-cli' } as const;

/** A fresh secret: 32 random bytes, URL-safe, prefixed so leaked keys are easy to recognise in scans. */
export function newSecret(): string {
  return `cmk_${randomBytes(32).toString('base64url')}`;
}

/**
 * Issues API keys as identity events; only the hash is stored, the secret is returned once. Keys are events
 * so the gateway's key directory is rebuilt from Kafka after a Redis flush.
 */
export async function issueKeys(producer: BatchingProducer, topics: TopicNames, requests: KeyRequest[]): Promise<IssuedKey[]> {
  const issued: IssuedKey[] = [];
  const messages = requests.map((request) => {
    const secret = request.secret ?? newSecret();
    const keyId = request.keyId ?? randomUUID().slice(0, 8);
    const now = new Date().toISOString();
    const event: IdentityEvent = {
      id: randomUUID(),
      source: 'admin',
      type: 'identity.api-key-issued',
      version: 1,
      occurredAt: now,
      key: keyId,
      correlationId: randomUUID(),
      causationId: null,
      actor: ADMIN_ACTOR,
      data: {
        keyId,
        keyHash: sha256Hex(secret),
        principal: { kind: request.kind, id: request.id, ...(request.name ? { name: request.name } : {}) },
        issuedAt: now,
      },
    };
    issued.push({ keyId, secret, kind: request.kind, id: request.id });
    return { key: keyId, value: identityEventCodec.encode(event), headers: { 'event-type': event.type } };
  });
  await producer.send(topics.identityEvents, messages);
  return issued;
}

export async function revokeKey(
  producer: BatchingProducer,
  topics: TopicNames,
  keyId: string,
  secretOrHash: string,
  reason: string,
): Promise<void> {
  const keyHash = /^[0-9a-f]{64}$/.test(secretOrHash) ? secretOrHash : sha256Hex(secretOrHash);
  const now = new Date().toISOString();
  const event: IdentityEvent = {
    id: randomUUID(),
    source: 'admin',
    type: 'identity.api-key-revoked',
    version: 1,
    occurredAt: now,
    key: keyId,
    correlationId: randomUUID(),
    causationId: null,
    actor: ADMIN_ACTOR,
    data: { keyId, keyHash, revokedAt: now, reason },
  };
  await producer.send(topics.identityEvents, [{ key: keyId, value: identityEventCodec.encode(event) }]);
}

/**
 * Well-known development keys, printed by `npm start` and used by the demo and the tests. Never use these
 * outside a development stack: they are in the source code.
 */
export const DEV_KEYS = {
  secretariat: { kind: 'secretariat', id: 'secretariat', name: 'Secretariat', secret: 'dev-secretariat-key-0001', keyId: 'dev-sec' },
  auditor: { kind: 'auditor', id: 'auditor', name: 'Auditor', secret: 'dev-auditor-key-0001', keyId: 'dev-aud' },
  committee: { kind: 'standing-committee', id: 'standing-committee', name: 'Standing Committee', secret: 'dev-committee-key-0001', keyId: 'dev-com' },
  KAZ: { kind: 'member-state', id: 'KAZ', name: 'Kazakhstan', secret: 'dev-kaz-key-00000001', keyId: 'dev-kaz' },
  KHM: { kind: 'member-state', id: 'KHM', name: 'Cambodia', secret: 'dev-khm-key-00000001', keyId: 'dev-khm' },
  THA: { kind: 'member-state', id: 'THA', name: 'Thailand', secret: 'dev-tha-key-00000001', keyId: 'dev-tha' },
  RUS: { kind: 'member-state', id: 'RUS', name: 'Russian Federation', secret: 'dev-rus-key-00000001', keyId: 'dev-rus' },
  MNG: { kind: 'member-state', id: 'MNG', name: 'Mongolia', secret: 'dev-mng-key-00000001', keyId: 'dev-mng' },
} as const satisfies Record<string, KeyRequest & { secret: string; keyId: string }>;
