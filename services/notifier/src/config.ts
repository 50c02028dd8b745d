import { Type } from '@sinclair/typebox';
import { CommonEnv } from '@consult/config';

export const NotifierEnv = {
  ...CommonEnv,
  DELIVERY_BASE_DELAY_MS: Type.Integer({ minimum: 1, default: 1_000 }),
  DELIVERY_MAX_DELAY_MS: Type.Integer({ minimum: 1, default: 300_000 }),
  DELIVERY_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 50, default: 6 }),
  DELIVERY_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 120_000, default: 5_000 }),
  DELIVERY_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 10_000, default: 64 }),
  DELIVERY_PER_SUBSCRIPTION_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 1_000, default: 8 }),
};
