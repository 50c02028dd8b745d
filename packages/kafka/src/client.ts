import { Kafka, logLevel as KafkaLogLevel, Partitioners, type KafkaConfig, type logCreator, type ProducerConfig, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';

export type { Kafka } from 'kafkajs';

/** kafkajs logs through pino so the whole system has one log format. */
export function pinoLogCreator(logger: Logger): logCreator {
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
  overrides?: Partial<KafkaConfig>;
}

export function createKafka({ brokers, clientId, logger, security, overrides }: KafkaClientOptions): Kafka {
  return new Kafka({
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
    ...overrides,
  });
}

/**
 * Settings every producer of the project shares: kafkajs 2's default (Java-compatible murmur2) partitioner,
 * chosen explicitly, so a key lands on the same partition whichever client produced it.
 */
export const PRODUCER_DEFAULTS: ProducerConfig = {
  createPartitioner: Partitioners.DefaultPartitioner,
  allowAutoTopicCreation: false,
};

/** The id of the Kafka cluster, which identifies the logs that derived state was built from. */
export async function clusterIdOf(kafka: Kafka): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.describeCluster()).clusterId;
  } finally {
    await admin.disconnect();
  }
}
