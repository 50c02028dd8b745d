import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { DEV_KEYS, issueKeys } from '@consult/admin';
import type { Logger } from '@consult/config';
import { allTopicSpecs, sha256Hex, topicNames, type TopicNames } from '@consult/contracts';
import { repositoryRoot } from '@consult/environment';
import { BatchingProducer, createKafka, ensureTopics, type Kafka } from '@consult/kafka';
import { createRedis, KeySpace, type Redis } from '@consult/redis';

export interface SystemUnderTest {
  kafka: Kafka;
  redis: Redis;
  topics: TopicNames;
  keyPrefix: string;
  gateways: string[];
  stop(): Promise<void>;
}

/**
 * Runs the services as separate processes, as in production (each has its own event loop, so the two cores are
 * shared as the OS sees fit), on fresh topics and a fresh key space that are removed afterwards.
 */
export async function startSystem(options: {
  kafkaBrokers: string;
  redisUrl: string;
  logger: Logger;
  gateways?: number;
  basePort?: number;
}): Promise<SystemUnderTest> {
  const { logger } = options;
  const id = `b${Date.now().toString(36)}`;
  const topics = topicNames(id);
  const keyPrefix = `bench:${id}`;
  const kafka = createKafka({ brokers: options.kafkaBrokers.split(','), clientId: 'bench', logger });
  const redis = createRedis(options.redisUrl, logger);
  await ensureTopics(kafka, allTopicSpecs(topics), logger);
  const root = repositoryRoot();
  const children: ChildProcess[] = [];
  const env = {
    ...process.env,
    KAFKA_BROKERS: options.kafkaBrokers,
    REDIS_URL: options.redisUrl,
    TOPIC_PREFIX: id,
    KEY_PREFIX: keyPrefix,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    // Production mode, with what a benchmark needs: its well-known keys, no per-key throttle, a throw-away webhook key.
    ALLOW_DEVELOPMENT_KEYS: 'true',
    RATE_LIMIT_MAX: '0',
    WEBHOOK_SECRETS_KEY: randomBytes(32).toString('base64'),
  };
  const spawnService = (service: string, extra: Record<string, string> = {}): void => {
    const child = spawn(process.execPath, [join(root, 'services', service, 'dist', 'main.js')], {
      env: { ...env, ...extra },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
  };
  spawnService('consultation');
  spawnService('projector');
  const gateways: string[] = [];
  const basePort = options.basePort ?? 18_080;
  for (let i = 0; i < (options.gateways ?? 1); i++) {
    spawnService('gateway', { PORT: String(basePort + i), INSTANCE_ID: `bench-gw-${i}` });
    gateways.push(`http://127.0.0.1:${basePort + i}`);
  }
  const producer = new BatchingProducer(kafka, logger);
  await producer.connect();
  await issueKeys(producer, topics, Object.values(DEV_KEYS));
  await producer.close();
  const keys = new KeySpace(keyPrefix);
  const started = Date.now();
  for (;;) {
    const ready = await Promise.all(gateways.map((g) => fetch(`${g}/readyz`).then((r) => r.ok, () => false)));
    const keyKnown = (await redis.exists(keys.key('apikey', sha256Hex(DEV_KEYS.MNG.secret)))) === 1;
    if (ready.every(Boolean) && keyKnown) break;
    if (Date.now() - started > 90_000) throw new Error('the system under test did not become ready');
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    kafka,
    redis,
    topics,
    keyPrefix,
    gateways,
    async stop() {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGTERM');
              setTimeout(() => c.kill('SIGKILL'), 15_000).unref();
            }),
        ),
      );
      await keys.clear(redis);
      redis.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: allTopicSpecs(topics).map((t) => t.name) }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}
