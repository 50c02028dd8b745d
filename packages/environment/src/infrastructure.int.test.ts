import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@consult/config';
import { InfrastructureUnavailable, provideInfrastructure } from './infrastructure.js';

const logger = createLogger('test', { level: 'silent', pretty: false });

/** A PATH with the shell tools the launcher uses, but no java, mvn or redis-server. */
function pathWithout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'no-java-'));
  for (const tool of ['bash', 'dirname', 'cat', 'sed', 'grep', 'mkdir', 'rm', 'date', 'sleep', 'awk', 'head', 'tail', 'cut', 'tr', 'basename', 'mktemp', 'env', 'ls', 'ps', 'kill']) {
    try {
      symlinkSync(execFileSync('bash', ['-c', `command -v ${tool}`]).toString().trim(), join(dir, tool));
    } catch {
      // a tool this machine lacks: the launcher does not get it either
    }
  }
  return dir;
}

describe('finding infrastructure', () => {
  it('uses configured addresses as they are', async () => {
    const infra = await provideInfrastructure({ logger, tryDocker: false, env: { KAFKA_BROKERS: 'kafka.internal:9092', REDIS_URL: 'redis://cache:6379' } });
    expect(infra).toMatchObject({ kafkaBrokers: 'kafka.internal:9092', redisUrl: 'redis://cache:6379', kafkaSource: 'configured', redisSource: 'configured' });
    await infra.stop();
  });

  it('does not start a plaintext broker for a process configured for SASL', async () => {
    const attempt = provideInfrastructure({ logger, tryDocker: false, env: { KAFKA_SASL_MECHANISM: 'scram-sha-256', REDIS_URL: 'redis://cache:6379' } });
    await expect(attempt).rejects.toBeInstanceOf(InfrastructureUnavailable);
    await expect(attempt).rejects.toThrow(/KAFKA_SASL_MECHANISM is set but KAFKA_BROKERS is not.*kafka\.sh up --sasl/);
  });

  it('fails at once with one line naming what is missing when no source can serve', async () => {
    const started = Date.now();
    const attempt = provideInfrastructure({
      logger,
      tryDocker: false,
      env: { PATH: pathWithout(), KAFKA_PORT: '22092', KAFKA_STATE_DIR: mkdtempSync(join(tmpdir(), 'kafka-state-')) },
    });
    await expect(attempt).rejects.toBeInstanceOf(InfrastructureUnavailable);
    await expect(attempt).rejects.toThrow(/Java 17\+ \(java\) is required.*KAFKA_BROKERS/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
