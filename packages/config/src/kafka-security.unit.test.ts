import { describe, expect, it } from 'vitest';
import { CommonEnv, loadConfig, ToolEnv } from './config.js';
import { kafkaSecurityOf } from './kafka-security.js';

const base = { KAFKA_BROKERS: 'k:9093', REDIS_URL: 'redis://r:6379' };

describe('Kafka client security settings', () => {
  it('are off unless configured', () => {
    expect(kafkaSecurityOf(loadConfig(CommonEnv, base))).toEqual({});
  });

  it('turn on TLS (with a CA of our own) and SASL/SCRAM from the environment', () => {
    const config = loadConfig(CommonEnv, {
      ...base,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: '/etc/kafka/ca.pem',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'gateway',
      KAFKA_SASL_PASSWORD: 'pw',
    });
    expect(kafkaSecurityOf(config, (path) => `PEM of ${path}`)).toEqual({
      ssl: { ca: ['PEM of /etc/kafka/ca.pem'] },
      sasl: { mechanism: 'scram-sha-512', username: 'gateway', password: 'pw' },
    });
    expect(kafkaSecurityOf(loadConfig(CommonEnv, { ...base, KAFKA_SSL: 'true' }))).toEqual({ ssl: true });
  });

  it('refuse a mechanism without credentials, and credentials without a mechanism', () => {
    expect(() => kafkaSecurityOf(loadConfig(CommonEnv, { ...base, KAFKA_SASL_MECHANISM: 'scram-sha-256' }))).toThrow(/KAFKA_SASL_USERNAME/);
    expect(() => kafkaSecurityOf(loadConfig(CommonEnv, { ...base, KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }))).toThrow(/KAFKA_SASL_MECHANISM/);
    expect(() => loadConfig(CommonEnv, { ...base, KAFKA_SASL_MECHANISM: 'gssapi' })).toThrow(/KAFKA_SASL_MECHANISM/);
  });

  it('are read by the tools (admin, replay, npm start) as by the services', () => {
    const config = loadConfig(ToolEnv, { KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'consult', KAFKA_SASL_PASSWORD: 'pw' });
    expect(kafkaSecurityOf(config)).toEqual({ sasl: { mechanism: 'scram-sha-256', username: 'consult', password: 'pw' } });
  });
});
