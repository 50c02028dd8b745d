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
  /** base64 of 32 bytes: seals webhook secrets at rest in Kafka; required in production (NODE_ENV=production). */
  WEBHOOK_SECRETS_KEY: Type.Optional(Type.String({ minLength: 1 })),
  /** Requests per API key per RATE_LIMIT_WINDOW_MS, counted in Redis across every gateway; 0 turns the limit off. */
  RATE_LIMIT_MAX: Type.Integer({ minimum: 0, default: 1_200 }),
  RATE_LIMIT_WINDOW_MS: Type.Integer({ minimum: 1_000, maximum: 3_600_000, default: 60_000 }),
  /** The whole request must arrive within this: a slowly trickled body does not hold a socket. */
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 1_000, maximum: 600_000, default: 30_000 }),
  /** Development keys (public: in the source code) work only when this is on; default: off when NODE_ENV=production. */
  ALLOW_DEVELOPMENT_KEYS: Type.Optional(Type.Boolean()),
  MAX_EVENT_STREAMS_PER_PRINCIPAL: Type.Integer({ minimum: 1, maximum: 10_000, default: 10 }),
  MAX_SUBSCRIPTIONS_PER_PRINCIPAL: Type.Integer({ minimum: 1, maximum: 100_000, default: 100 }),
  /** Development only (`npm start`, tests): subscriptions may name loopback and private addresses. */
  ALLOW_PRIVATE_WEBHOOK_TARGETS: Type.Boolean({ default: false }),
  READY_MAX_LAG: Type.Integer({ minimum: 0, default: 200 }),
  /** Member states' IANA zones over the default ASEAN/CICA table, e.g. "KAZ=Asia/Almaty,RUS=Europe/Moscow". */
  MEMBER_STATE_TIME_ZONES: Type.String({ default: '' }),
  /** Where a deadline given as a date ends; default Asia/Almaty (the CICA Secretariat in Astana). */
  SECRETARIAT_TIME_ZONE: Type.String({ default: 'Asia/Almaty' }),
  /** Attachments: a directory by default; with a bucket, an S3-compatible store (credentials from the AWS SDK chain). */
  ATTACHMENTS_DIR: Type.String({ default: '.data/attachments' }),
  ATTACHMENTS_S3_BUCKET: Type.Optional(Type.String({ minLength: 1 })),
  ATTACHMENTS_S3_ENDPOINT: Type.Optional(Type.String({ minLength: 1 })),
  ATTACHMENTS_S3_REGION: Type.Optional(Type.String({ minLength: 1 })),
};

/** Parses "KAZ=Asia/Almaty,RUS=Europe/Moscow"; throws on a bad code or an unknown zone, so start-up fails clearly. */
export function parseTimeZoneTable(raw: string, isZone: (name: string) => boolean): Record<string, string> {
  const table: Record<string, string> = {};
  for (const entry of raw.split(',').map((e) => e.trim()).filter(Boolean)) {
    const [code, zone] = entry.split('=').map((p) => p.trim());
    if (!code || !/^[A-Z]{3}$/.test(code) || !zone || !isZone(zone))
      throw new Error(`invalid MEMBER_STATE_TIME_ZONES entry "${entry}" (want CODE=Area/City)`);
    table[code] = zone;
  }
  return table;
}
