import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { BatchingProducer, clusterIdOf, createKafka, ensureTopics } from '@consult/kafka';
import { bindKeySpaceToCluster, createRedisClient, KeySpace } from '@consult/redis';
import { CommonEnv, createLogger, kafkaSecurityOf, loadConfig, startupRefusal, ToolEnv } from '@consult/config';
import { Type } from '@sinclair/typebox';
import { allTopicSpecs, topicNames } from '@consult/contracts';
import { provideInfrastructure, repositoryRoot } from '@consult/environment';
import { DEV_KEYS, issueKeys } from '@consult/admin';
import { startBanner } from './banner.js';
import { gatewayUrls, processPlan } from './process-plan.js';
import { seedDemo } from './demo.js';
import { waitForGateway } from './wait-for-gateway.js';

/**
 * `npm start`: finds or starts Kafka and Redis, runs every service as its own process, seeds development keys
 * and the demo consultation, and on Ctrl-C stops the services and whatever infrastructure it started.
 */
const logger = createLogger('devstack', { level: 'info', pretty: process.stdout.isTTY });
const config = loadConfig({
  ...ToolEnv,
  NODE_ENV: CommonEnv.NODE_ENV,
  PORT: Type.Integer({ minimum: 1, maximum: 65_535, default: 8080 }),
  /** How many processes of every service (gateways on PORT, PORT+1, …). */
  INSTANCES: Type.Integer({ minimum: 1, maximum: 6, default: 1 }),
});
// `npm start` seeds the development keys, whose secrets are in the source code: never in production.
if (config.NODE_ENV === 'production') {
  process.stderr.write('npm start runs a development stack with the public development keys: refused when NODE_ENV=production\n');
  process.exit(2);
}
const port = config.PORT;
const plan = processPlan(config.INSTANCES, port);
const baseUrl = gatewayUrls(plan)[0]!;

const infra = await provideInfrastructure({ logger });
logger.info({ kafka: `${infra.kafkaBrokers} (${infra.kafkaSource})`, redis: `${infra.redisUrl} (${infra.redisSource})` }, 'infrastructure ready');
const children: ChildProcess[] = [];
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  logger.info('stopping services');
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  await infra.stop();
  logger.info('all stopped');
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  const kafka = createKafka({ brokers: infra.kafkaBrokers.split(','), clientId: 'devstack', logger, security: kafkaSecurityOf(config) });
  const topics = topicNames(config.TOPIC_PREFIX);
  await ensureTopics(kafka, allTopicSpecs(topics), logger);
  // A key space left by another broker (a reset one, another clone) is all derived: clear it before any
  // service starts, rather than let the services refuse it.
  const redis = createRedisClient(infra.redisUrl, logger);
  const binding = await bindKeySpaceToCluster(redis, new KeySpace(config.KEY_PREFIX), await clusterIdOf(kafka), 'reset');
  if (binding === 'reset') logger.warn({ keyPrefix: config.KEY_PREFIX }, 'the Redis key space was built from another Kafka cluster: cleared, to be rebuilt');
  redis.disconnect();
  const root = repositoryRoot();
  for (const { service, instance, port: servicePort } of plan) {
    const child = spawn(process.execPath, [join(root, 'services', service, 'dist', 'main.js')], {
      env: {
        // KAFKA_SSL* and KAFKA_SASL_* pass through: every service authenticates as this process does.
        ...process.env,
        KAFKA_BROKERS: infra.kafkaBrokers,
        REDIS_URL: infra.redisUrl,
        PORT: String(servicePort ?? port),
        LOG_LEVEL: config.LOG_LEVEL,
        KEY_PREFIX: config.KEY_PREFIX,
        // A development stack: webhooks to receivers on this machine are allowed (refused in production).
        ALLOW_PRIVATE_WEBHOOK_TARGETS: process.env.ALLOW_PRIVATE_WEBHOOK_TARGETS ?? 'true',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('exit', (code, signal) => {
      if (!stopping) {
        logger.error({ service, instance, code, signal }, 'a service exited: stopping everything');
        void stopAll(1);
      }
    });
    children.push(child);
  }

  const producer = new BatchingProducer(kafka, logger);
  await producer.connect();
  await issueKeys(producer, topics, Object.values(DEV_KEYS));
  await producer.close();

  // The demo depends on the gateway being ready and on the keys just issued being projected (a cleared key
  // space is rebuilt first): wait for both, never race them.
  for (const url of gatewayUrls(plan)) await waitForGateway(url, DEV_KEYS.secretariat.secret);
  const { consultationId, silenceConsultationId } = await seedDemo(baseUrl);

  process.stdout.write(startBanner(baseUrl, consultationId, silenceConsultationId, gatewayUrls(plan).slice(1)));
} catch (error) {
  logger.fatal({ err: error }, 'start failed');
  // A topic weaker than declared, a key space of another cluster: say what to fix in plain text.
  const refusal = startupRefusal(error, 'npm start');
  if (refusal) process.stderr.write(refusal);
  await stopAll(1);
}
