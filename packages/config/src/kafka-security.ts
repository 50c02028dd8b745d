import { readFileSync } from 'node:fs';
import { ConfigError } from './config.js';

/** How clients reach the brokers: TLS and SASL settings, in the shape `createKafka({ security })` takes. */
export interface KafkaSecuritySettings {
  ssl?: boolean | { ca: string[] };
  sasl?: { mechanism: 'scram-sha-256' | 'scram-sha-512' | 'plain'; username: string; password: string };
}

export interface KafkaSecurityEnv {
  KAFKA_SSL: boolean;
  KAFKA_SSL_CA_FILE?: string | undefined;
  KAFKA_SASL_MECHANISM?: 'scram-sha-256' | 'scram-sha-512' | 'plain' | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
}

/** The Kafka security settings of a loaded configuration; a mechanism without its credentials fails start-up. */
export function kafkaSecurityOf(config: KafkaSecurityEnv, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): KafkaSecuritySettings {
  const settings: KafkaSecuritySettings = {};
  if (config.KAFKA_SSL_CA_FILE) settings.ssl = { ca: [readFile(config.KAFKA_SSL_CA_FILE)] };
  else if (config.KAFKA_SSL) settings.ssl = true;
  if (config.KAFKA_SASL_MECHANISM) {
    if (!config.KAFKA_SASL_USERNAME || !config.KAFKA_SASL_PASSWORD)
      throw new ConfigError(['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'], `KAFKA_SASL_MECHANISM=${config.KAFKA_SASL_MECHANISM} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`);
    settings.sasl = { mechanism: config.KAFKA_SASL_MECHANISM, username: config.KAFKA_SASL_USERNAME, password: config.KAFKA_SASL_PASSWORD };
  } else if (config.KAFKA_SASL_USERNAME || config.KAFKA_SASL_PASSWORD) {
    throw new ConfigError(['KAFKA_SASL_MECHANISM'], 'KAFKA_SASL_USERNAME/PASSWORD need KAFKA_SASL_MECHANISM');
  }
  return settings;
}
