import { Kafka, logLevel as KafkaLogLevel, type KafkaConfig, type logCreator, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import { kafkajsOf, registerKafkajs } from './kafkajs-client.js';

/**
 * A client of one Kafka cluster, made by `createKafka` and handed to this package's consumers, producers and
 * admin helpers. It is opaque on purpose: kafkajs (its types, its consumers and admin) stays inside this
 * package, so the rest of the project depends on what the package promises, not on kafkajs.
 */
export interface KafkaClient {
  readonly kind: 'kafka-client';
  readonly clientId: string;
  readonly brokers: readonly string[];
}

/** How long a client tries before it gives up: a probe that must fail fast asks for less than the default. */
export interface KafkaPatience {
  connectionTimeoutMs: number;
  retries: number;
  maxRetryTimeMs: number;
}

/** kafkajs logs through pino so the whole system has one log format. */
function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _t, logger: _l, ...extra } = log;
      const child = { ...extra, namespace };
      // Said on every producer created with the client's retry limit. The limit is safe here: a producer whose
      // request failed is never reused (BatchingProducer.replaceProducer; TransactionalProcessor drops it).
      if (message === 'Limiting retries for the idempotent producer may invalidate EoS guarantees') return logger.debug(child, message);
      switch (level) {
        case KafkaLogLevel.ERROR:
          logger.error(child, message);
          break;
        case KafkaLogLevel.WARN:
          logger.warn(child, message);
          break;
        case KafkaLogLevel.INFO:
          logger.info(child, message);
          break;
        default:
          logger.debug(child, message);
      }
    };
}

/** TLS and SASL to the brokers (`kafkaSecurityOf` in @consult/config reads them from the environment). */
export interface KafkaSecurity {
  ssl?: boolean | { ca: string[] };
  sasl?: { mechanism: 'scram-sha-256' | 'scram-sha-512' | 'plain'; username: string; password: string };
}

export interface KafkaClientOptions {
  brokers: readonly string[];
  clientId: string;
  logger: Logger;
  security?: KafkaSecurity;
  patience?: KafkaPatience;
}

export function createKafka({ brokers, clientId, logger, security, patience }: KafkaClientOptions): KafkaClient {
  const config: KafkaConfig = {
    ...(security?.ssl ? { ssl: security.ssl } : {}),
    // A union of mechanisms kafkajs types one by one: the three it supports, all with username and password.
    ...(security?.sasl ? { sasl: security.sasl as SASLOptions } : {}),
    clientId,
    brokers: [...brokers],
    logLevel: KafkaLogLevel.INFO,
    logCreator: pinoLogCreator(logger.child({ component: 'kafkajs' })),
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    // Retries at most 2 s apart (about 30 s in all, as before): after a broker restart every client is back
    // within 2 s of the broker, where 10 s apart left consumers idle for up to 10 s after it was serving.
    retry: { initialRetryTime: 200, retries: 18, maxRetryTime: 2_000 },
    ...(patience
      ? {
          connectionTimeout: patience.connectionTimeoutMs,
          retry: { initialRetryTime: Math.min(200, patience.maxRetryTimeMs), retries: patience.retries, maxRetryTime: patience.maxRetryTimeMs },
        }
      : {}),
  };
  const client: KafkaClient = Object.freeze({ kind: 'kafka-client', clientId, brokers: Object.freeze([...brokers]) });
  return registerKafkajs(client, new Kafka(config));
}

/** The id of the Kafka cluster, which identifies the logs that derived state was built from. */
export async function clusterIdOf(kafka: KafkaClient): Promise<string> {
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  try {
    return (await admin.describeCluster()).clusterId;
  } finally {
    await admin.disconnect();
  }
}
