import { Type, type Static } from '@sinclair/typebox';
import { eventSchema } from './envelope.js';
import { PrincipalKind, Rfc3339, Sha256Hex } from './primitives.js';

/** API keys are events too (key = key id): the gateway's key directory is rebuilt from them after a Redis flush. */
export const ApiKeyIssuedV1 = eventSchema(
  'identity.api-key-issued',
  1,
  Type.Object({
    keyId: Type.String({ minLength: 1, maxLength: 64 }),
    /** SHA-256 of the secret; the secret itself is printed once and never stored. */
    keyHash: Sha256Hex,
    principal: Type.Object({
      kind: PrincipalKind,
      /** Member-state code, CSO id, or a name for secretariat/committee/auditor principals. */
      id: Type.String({ minLength: 1, maxLength: 128 }),
      name: Type.Optional(Type.String({ maxLength: 200 })),
    }),
    issuedAt: Rfc3339,
    expiresAt: Type.Optional(Rfc3339),
  }),
);

export const ApiKeyRevokedV1 = eventSchema(
  'identity.api-key-revoked',
  1,
  Type.Object({ keyId: Type.String({ minLength: 1 }), keyHash: Sha256Hex, revokedAt: Rfc3339, reason: Type.String() }),
);

/**
 * A key's expiry was set or moved (e.g. the old key of a rotation expires after the overlap). The gateway
 * refuses a key from its expiry on, as from an `expiresAt` given when it was issued.
 */
export const ApiKeyExpirySetV1 = eventSchema(
  'identity.api-key-expiry-set',
  1,
  Type.Object({ keyId: Type.String({ minLength: 1 }), keyHash: Sha256Hex, expiresAt: Rfc3339, reason: Type.String({ maxLength: 500 }) }),
);

export const IdentityEvent = Type.Union([ApiKeyIssuedV1, ApiKeyRevokedV1, ApiKeyExpirySetV1]);
export type IdentityEvent = Static<typeof IdentityEvent>;
