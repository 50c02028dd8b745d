import { randomBytes, randomUUID } from 'node:crypto';
import { identityEventCodec, sha256Hex, type IdentityEvent, type PrincipalKind, type TopicNames } from '@consult/contracts';
import type { Logger } from '@consult/config';
import { readToEnd, type BatchingProducer, type KafkaClient } from '@consult/kafka';

export interface KeyRequest {
  kind: Exclude<PrincipalKind, 'system'>;
  /** Member-state code, CSO id, or a name for the other kinds. */
  id: string;
  name?: string;
  /** Only for fixed development keys; otherwise a random secret is made. */
  secret?: string;
  keyId?: string;
  /** RFC 3339: the key stops working then. */
  expiresAt?: string;
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
        ...(request.expiresAt ? { expiresAt: request.expiresAt } : {}),
      },
    };
    issued.push({ keyId, secret, kind: request.kind, id: request.id });
    return { key: keyId, value: identityEventCodec.encode(event), headers: { 'event-type': event.type } };
  });
  await producer.send(topics.identityEvents, messages);
  return issued;
}

/** What the identity topic says of one key. */
export interface KnownKey {
  keyId: string;
  keyHash: string;
  principal: { kind: KeyRequest['kind'] | 'system'; id: string; name?: string };
  issuedAt: string;
  expiresAt?: string;
  revokedAt?: string;
}

/** Every key the identity topic knows, by key id (read to its end). */
export async function knownKeys(kafka: KafkaClient, topics: TopicNames, logger: Logger): Promise<Map<string, KnownKey>> {
  const keys = new Map<string, KnownKey>();
  await readToEnd(kafka, {
    topic: topics.identityEvents,
    logger,
    groupIdPrefix: `${topics.identityEvents}.admin`,
    onBatch: (_partition, messages) => {
      for (const m of messages) {
        const event = identityEventCodec.decode(m.value);
        const d = event.data;
        if (event.type === 'identity.api-key-issued')
          keys.set(d.keyId, { keyId: d.keyId, keyHash: d.keyHash, principal: event.data.principal, issuedAt: event.data.issuedAt, ...(event.data.expiresAt ? { expiresAt: event.data.expiresAt } : {}) });
        else {
          const known = keys.get(d.keyId);
          if (!known) continue;
          if (event.type === 'identity.api-key-revoked') known.revokedAt = event.data.revokedAt;
          else known.expiresAt = event.data.expiresAt;
        }
      }
    },
  });
  return keys;
}

function identityEnvelope(keyId: string, now: string) {
  return { id: randomUUID(), source: 'admin', occurredAt: now, key: keyId, correlationId: randomUUID(), causationId: null, actor: ADMIN_ACTOR };
}

/** Revokes a key by its id: the caller has checked that it exists (`knownKeys`); no secret is needed. */
export async function revokeKey(producer: BatchingProducer, topics: TopicNames, key: Pick<KnownKey, 'keyId' | 'keyHash'>, reason: string): Promise<void> {
  const now = new Date().toISOString();
  const event: IdentityEvent = {
    ...identityEnvelope(key.keyId, now),
    type: 'identity.api-key-revoked',
    version: 1,
    data: { keyId: key.keyId, keyHash: key.keyHash, revokedAt: now, reason },
  };
  await producer.send(topics.identityEvents, [{ key: key.keyId, value: identityEventCodec.encode(event), headers: { 'event-type': event.type } }]);
}

/**
 * Rotates a key with an overlap: a new key for the same principal now, and the old one expires after
 * `overlapSeconds`, so the integrator can deploy the new one without an outage.
 */
export async function rotateKey(
  producer: BatchingProducer,
  topics: TopicNames,
  old: KnownKey,
  overlapSeconds: number,
): Promise<{ issued: IssuedKey; oldExpiresAt: string }> {
  if (old.principal.kind === 'system') throw new Error('system principals have no API keys to rotate');
  const [issued] = await issueKeys(producer, topics, [
    { kind: old.principal.kind, id: old.principal.id, ...(old.principal.name ? { name: old.principal.name } : {}) },
  ]);
  const now = new Date();
  const oldExpiresAt = new Date(now.getTime() + overlapSeconds * 1000).toISOString();
  const event: IdentityEvent = {
    ...identityEnvelope(old.keyId, now.toISOString()),
    type: 'identity.api-key-expiry-set',
    version: 1,
    data: { keyId: old.keyId, keyHash: old.keyHash, expiresAt: oldExpiresAt, reason: `rotated: replaced by ${issued!.keyId}` },
  };
  await producer.send(topics.identityEvents, [{ key: old.keyId, value: identityEventCodec.encode(event), headers: { 'event-type': event.type } }]);
  return { issued: issued!, oldExpiresAt };
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
