import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** A missing or malformed environment variable; the message names it so start-up fails with one clear line. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly variables: readonly string[], detail: string) {
    super(`invalid configuration: ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Settings every process shares; services extend this with their own. */
export const CommonEnv = {
  KAFKA_BROKERS: Type.String({ minLength: 1, description: 'Comma-separated host:port list' }),
  /** redis://host:port (or rediss://); redis+cluster://host:port,host:port names a Redis Cluster (@consult/redis). */
  REDIS_URL: Type.String({ pattern: '^rediss?(\\+cluster)?://' }),
  TOPIC_PREFIX: Type.String({ default: '' }),
  KEY_PREFIX: Type.String({ default: 'cms', description: 'Prefix of every Redis key this deployment owns' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  NODE_ENV: Type.String({ default: 'development' }),
  INSTANCE_ID: Type.Optional(Type.String({ minLength: 1 })),
  /** TLS to the brokers; with KAFKA_SSL_CA_FILE, trust only that CA (PEM). */
  KAFKA_SSL: Type.Boolean({ default: false }),
  KAFKA_SSL_CA_FILE: Type.Optional(Type.String({ minLength: 1 })),
  /** SASL authentication to the brokers (with TLS in production): each service its own principal. */
  KAFKA_SASL_MECHANISM: Type.Optional(Type.Union([Type.Literal('scram-sha-256'), Type.Literal('scram-sha-512'), Type.Literal('plain')])),
  KAFKA_SASL_USERNAME: Type.Optional(Type.String({ minLength: 1 })),
  KAFKA_SASL_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
};

/** TLS and SASL to the brokers (`kafkaSecurityOf` reads them): services and tools alike. */
export const KafkaClientEnv = {
  KAFKA_SSL: CommonEnv.KAFKA_SSL,
  KAFKA_SSL_CA_FILE: CommonEnv.KAFKA_SSL_CA_FILE,
  KAFKA_SASL_MECHANISM: CommonEnv.KAFKA_SASL_MECHANISM,
  KAFKA_SASL_USERNAME: CommonEnv.KAFKA_SASL_USERNAME,
  KAFKA_SASL_PASSWORD: CommonEnv.KAFKA_SASL_PASSWORD,
};

/**
 * What tools (admin, devstack, replay) read: prefixes, log level and how to authenticate to Kafka, with the
 * addresses found for them.
 */
export const ToolEnv = {
  TOPIC_PREFIX: CommonEnv.TOPIC_PREFIX,
  KEY_PREFIX: CommonEnv.KEY_PREFIX,
  LOG_LEVEL: CommonEnv.LOG_LEVEL,
  ...KafkaClientEnv,
};

/**
 * Reads the environment once, applies defaults, converts numbers and booleans, and validates. Only the keys the
 * schema names are read, so nothing else in the code needs `process.env`.
 */
export function loadConfig<P extends TProperties>(
  properties: P,
  env: Record<string, string | undefined> = process.env,
): Static<TObject<P>> {
  const schema = Type.Object(properties);
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(properties)) {
    const raw = env[key];
    if (raw !== undefined && raw !== '') picked[key] = raw;
  }
  const withDefaults = Value.Default(schema, Value.Convert(schema, picked));
  const errors = [...Value.Errors(schema, withDefaults)];
  if (errors.length > 0) {
    const names = [...new Set(errors.map((e) => e.path.replace(/^\//, '').split('/')[0] ?? e.path))];
    const detail = errors
      .slice(0, 5)
      .map((e) => `${e.path.replace(/^\//, '')}: ${e.message}${env[e.path.slice(1)] === undefined ? ' (not set)' : ''}`)
      .join('; ');
    throw new ConfigError(names, detail);
  }
  return withDefaults as Static<TObject<P>>;
}

export function kafkaBrokerList(brokers: string): string[] {
  return brokers
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}
