import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_KEYS, issueKeys } from '@consult/admin';
import type { Logger } from '@consult/config';
import { allTopicSpecs, topicNames, type TopicNames } from '@consult/contracts';
import { repositoryRoot } from '@consult/environment';
import { BatchingProducer, createKafka, deleteTopics, ensureTopics, type KafkaClient } from '@consult/kafka';
import { createRedis, KeySpace, type Redis } from '@consult/redis';
import { countLogLines, ServiceProcess, type LogCounts } from './processes.js';

export interface SystemUnderTest {
  kafka: KafkaClient;
  redis: Redis;
  topics: TopicNames;
  keyPrefix: string;
  gateways: string[];
  /** Every process of the system, by name (gateway-0, gateway-1, consultation, projector, …). */
  processes: ServiceProcess[];
  /** Where the processes' logs are. */
  logDir: string;
  /** The webhook receiver on loopback, when the topology has the notifier. */
  webhooks?: WebhookCounter;
  /** Starts a bench-only process beside the system (a baseline), with the system's settings. */
  spawnBeside(name: string, script: string, extra: Record<string, string>): ServiceProcess;
  /** Warning and error lines per process, read from their logs. */
  logCounts(): Record<string, LogCounts>;
  stop(): Promise<void>;
}

/**
 * `core`: what every comment passes through (writer, projector, gateways). `production`: everything
 * `npm start` runs (the statements writer, the deadline service and the notifier too), so the benchmark pays
 * for the whole deployment, webhook deliveries included.
 */
export type Topology = 'core' | 'production';

/** Counts webhook POSTs; answers 200 to each, as a healthy subscriber does. */
export class WebhookCounter {
  received = 0;
  private readonly server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      this.received += 1;
      response.writeHead(200).end();
    });
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
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
  topology?: Topology;
}): Promise<SystemUnderTest> {
  const { logger } = options;
  const topology = options.topology ?? 'production';
  const id = `b${Date.now().toString(36)}`;
  const topics = topicNames(id);
  const keyPrefix = `bench:${id}`;
  const logDir = mkdtempSync(join(tmpdir(), 'consult-bench-'));
  const kafka = createKafka({ brokers: options.kafkaBrokers.split(','), clientId: 'bench', logger });
  const redis = createRedis(options.redisUrl, logger);
  await ensureTopics(kafka, allTopicSpecs(topics), logger);
  const root = repositoryRoot();
  const processes: ServiceProcess[] = [];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    KAFKA_BROKERS: options.kafkaBrokers,
    REDIS_URL: options.redisUrl,
    TOPIC_PREFIX: id,
    KEY_PREFIX: keyPrefix,
    // Info, as deployed: the logs are counted, and a benchmark that hid their cost would flatter the system.
    LOG_LEVEL: 'info',
    NODE_ENV: 'production',
    // Production mode, with what a benchmark needs: its well-known keys, no per-key throttle, a throw-away
    // webhook sealing key, and a subscriber on loopback.
    ALLOW_DEVELOPMENT_KEYS: 'true',
    RATE_LIMIT_MAX: '0',
    WEBHOOK_SECRETS_KEY: randomBytes(32).toString('base64'),
    ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true',
  };
  const spawnBeside = (name: string, script: string, extra: Record<string, string> = {}): ServiceProcess => {
    const child = new ServiceProcess(name, script, { ...env, ...extra }, logDir);
    processes.push(child);
    return child;
  };
  const spawnService = (name: string, service: string, extra: Record<string, string> = {}): ServiceProcess =>
    spawnBeside(name, join(root, 'services', service, 'dist', 'main.js'), extra);
  spawnService('consultation', 'consultation');
  spawnService('projector', 'projector');
  if (topology === 'production') {
    spawnService('statements', 'statements');
    spawnService('deadlines', 'deadlines');
    spawnService('notifier', 'notifier');
  }
  const gateways: string[] = [];
  const basePort = options.basePort ?? 18_080;
  for (let i = 0; i < (options.gateways ?? 1); i++) {
    spawnService(`gateway-${i}`, 'gateway', { PORT: String(basePort + i), INSTANCE_ID: `bench-gw-${i}` });
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
    // The development keys are projected once a gateway knows one of them.
    const keyKnown = await fetch(`${gateways[0]}/v1/me`, { headers: { authorization: `Bearer ${DEV_KEYS.MNG.secret}` } }).then((r) => r.ok, () => false);
    if (ready.every(Boolean) && keyKnown) break;
    const dead = processes.find((p) => !p.alive);
    if (dead) throw new Error(`${dead.name} exited during start-up; its log: ${dead.log}`);
    if (Date.now() - started > 120_000) throw new Error(`the system under test did not become ready; logs in ${logDir}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  let webhooks: WebhookCounter | undefined;
  if (topology === 'production') {
    // Each member state follows its own comments, as an integrator's system of record would.
    webhooks = new WebhookCounter();
    const url = await webhooks.listen();
    for (const state of ['KAZ', 'KHM', 'MNG', 'RUS', 'THA'] as const) {
      const response = await fetch(`${gateways[0]}/v1/subscriptions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEV_KEYS[state].secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: `${url}/${state}`, events: ['consultation.comment-submitted'] }),
      });
      if (response.status !== 201 && response.status !== 202)
        throw new Error(`subscription for ${state} answered ${response.status}: ${await response.text()}`);
    }
  }
  return {
    kafka,
    redis,
    topics,
    keyPrefix,
    gateways,
    processes,
    logDir,
    ...(webhooks ? { webhooks } : {}),
    spawnBeside,
    logCounts: () => Object.fromEntries(processes.map((p) => [p.name, countLogLines(p.log)])),
    async stop() {
      await Promise.all(processes.map((p) => p.stop()));
      await webhooks?.close();
      await keys.clear(redis);
      redis.disconnect();
      await deleteTopics(kafka, allTopicSpecs(topics).map((t) => t.name), logger);
    },
  };
}
