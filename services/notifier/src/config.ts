import { Type } from '@sinclair/typebox';
import { CommonEnv } from '@consult/config';

export const NotifierEnv = {
  ...CommonEnv,
  DELIVERY_BASE_DELAY_MS: Type.Integer({ minimum: 1, default: 1_000 }),
  DELIVERY_MAX_DELAY_MS: Type.Integer({ minimum: 1, default: 300_000 }),
  DELIVERY_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 50, default: 6 }),
  DELIVERY_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 120_000, default: 5_000 }),
  DELIVERY_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 10_000, default: 64 }),
  /** Development only (`npm start`, tests): webhooks may reach loopback and private addresses. */
  /** base64 of 32 bytes: opens the webhook secrets sealed in Kafka; required in production (NODE_ENV=production). */
  WEBHOOK_SECRETS_KEY: Type.Optional(Type.String({ minLength: 1 })),
  ALLOW_PRIVATE_WEBHOOK_TARGETS: Type.Boolean({ default: false }),
  DELIVERY_PER_SUBSCRIPTION_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 1_000, default: 8 }),
};
