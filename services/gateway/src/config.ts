import { Type } from '@sinclair/typebox';
import { CommonEnv } from '@consult/config';

export const GatewayEnv = {
  ...CommonEnv,
  PORT: Type.Integer({ minimum: 0, maximum: 65_535, default: 8080 }),
  HOST: Type.String({ default: '127.0.0.1' }),
  /** How long a request waits for its decision to be visible before answering 202. */
  DECISION_TIMEOUT_MS: Type.Integer({ minimum: 50, maximum: 60_000, default: 5_000 }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1_024, maximum: 10_485_760, default: 262_144 }),
  AUTH_CACHE_TTL_MS: Type.Integer({ minimum: 0, maximum: 300_000, default: 5_000 }),
  READY_MAX_LAG: Type.Integer({ minimum: 0, default: 1_000 }),
  /** Attachments: a directory by default; with a bucket, an S3-compatible store (credentials from the AWS SDK chain). */
  ATTACHMENTS_DIR: Type.String({ default: '.data/attachments' }),
  ATTACHMENTS_S3_BUCKET: Type.Optional(Type.String({ minLength: 1 })),
  ATTACHMENTS_S3_ENDPOINT: Type.Optional(Type.String({ minLength: 1 })),
  ATTACHMENTS_S3_REGION: Type.Optional(Type.String({ minLength: 1 })),
};
