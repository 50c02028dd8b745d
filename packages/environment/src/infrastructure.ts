import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConnection } from 'node:net';
import type { Logger } from 'pino';

/** No source could provide Kafka or Redis; the message says what is missing and how to get it. */
export class InfrastructureUnavailable extends Error {
  readonly code = 'INFRASTRUCTURE_UNAVAILABLE';
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = 'InfrastructureUnavailable';
  }
}

export type Source = 'configured' | 'testcontainers' | 'local';

export interface Infrastructure {
  kafkaBrokers: string;
  redisUrl: string;
  kafkaSource: Source;
  redisSource: Source;
  /** Stops only what this call started; a broker that was already running is left alone. */
  stop(): Promise<void>;
}

export interface ProvideOptions {
  logger: Logger;
  env?: Record<string, string | undefined>;
  /** Consulted before the local launcher; off to force the launcher (e.g. in CI without Docker). */
  tryDocker?: boolean;
}

/** The repository root: where `infra/kafka/kafka.sh` lives. */
export function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'infra', 'kafka', 'kafka.sh'))) return dir;
    dir = dirname(dir);
  }
  throw new InfrastructureUnavailable('cannot find infra/kafka/kafka.sh above the environment package');
}

function run(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  logger: Logger,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    // The launcher narrates on stderr (download, format, start): pass it through so startup is visible.
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logger.info(line.trim());
    });
  });
}

function lastAssignment(stdout: string, name: string): string | undefined {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(`${name}=`));
  return line?.slice(name.length + 1);
}

function tcpAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => {
      socket.write('PING\r\n');
      socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    });
  });
}

async function dockerAnswers(env: Record<string, string | undefined>): Promise<boolean> {
  const socket = env.DOCKER_HOST ?? (existsSync('/var/run/docker.sock') ? 'unix:///var/run/docker.sock' : undefined);
  if (!socket) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds Kafka and Redis, the same way for `npm start`, the tests and the benchmarks:
 * configured addresses (KAFKA_BROKERS, REDIS_URL) → testcontainers when a Docker engine answers → the local
 * launcher (a KRaft broker from Maven Central jars, the machine's redis-server). Fails at once, saying what is
 * missing, when none can serve.
 */
export async function provideInfrastructure(options: ProvideOptions): Promise<Infrastructure> {
  const env = options.env ?? process.env;
  const { logger } = options;
  const stops: (() => Promise<void>)[] = [];
  if (!env.KAFKA_BROKERS && env.KAFKA_SASL_MECHANISM) {
    // A broker started here would have no SASL listener and its own random passwords: say how to get one that fits.
    throw new InfrastructureUnavailable(
      'Kafka: KAFKA_SASL_MECHANISM is set but KAFKA_BROKERS is not; start a SASL broker with `infra/kafka/kafka.sh up --sasl` and set KAFKA_BROKERS and the KAFKA_SASL_* it prints',
    );
  }
  const docker = (options.tryDocker ?? env.CONSULT_NO_DOCKER !== '1') && !(env.KAFKA_BROKERS && env.REDIS_URL) ? await dockerAnswers(env) : false;

  let kafkaBrokers = env.KAFKA_BROKERS;
  let kafkaSource: Source = 'configured';
  if (!kafkaBrokers && docker) {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    logger.info('starting Kafka with testcontainers');
    const container = await new KafkaContainer('confluentinc/cp-kafka:7.9.0')
      .withKraft()
      .withEnvironment({ KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false' })
      .start();
    kafkaBrokers = `${container.getHost()}:${container.getMappedPort(9093)}`;
    kafkaSource = 'testcontainers';
    stops.push(async () => void (await container.stop()));
  }
  if (!kafkaBrokers) {
    const launcher = join(repositoryRoot(), 'infra', 'kafka', 'kafka.sh');
    const wasRunning = (await run('bash', [launcher, 'status'], env, logger)).code === 0;
    const up = await run('bash', [launcher, 'up'], env, logger);
    kafkaBrokers = lastAssignment(up.stdout, 'KAFKA_BROKERS');
    if (up.code !== 0 || !kafkaBrokers) {
      const reason = up.stderr.trim().split('\n').pop() ?? 'the local Kafka launcher failed';
      throw new InfrastructureUnavailable(
        `Kafka: no KAFKA_BROKERS configured, no Docker engine, and the local launcher failed: ${reason}`,
      );
    }
    kafkaSource = 'local';
    logger.info({ brokers: kafkaBrokers, reused: wasRunning }, wasRunning ? 'reusing the local Kafka broker' : 'local Kafka broker started');
    if (!wasRunning)
      stops.push(async () => {
        logger.info('stopping the local Kafka broker');
        await run('bash', [launcher, 'down'], env, logger);
      });
  }

  let redisUrl = env.REDIS_URL;
  let redisSource: Source = 'configured';
  if (!redisUrl && docker) {
    const { RedisContainer } = await import('@testcontainers/redis');
    const container = await new RedisContainer('redis:7-alpine').start();
    redisUrl = container.getConnectionUrl();
    redisSource = 'testcontainers';
    stops.push(async () => void (await container.stop()));
  }
  if (!redisUrl && (await tcpAnswers('127.0.0.1', 6379))) {
    redisUrl = 'redis://127.0.0.1:6379';
    redisSource = 'local';
  }
  if (!redisUrl) {
    const launcher = join(repositoryRoot(), 'infra', 'redis', 'redis.sh');
    const up = await run('bash', [launcher, 'up'], env, logger);
    redisUrl = lastAssignment(up.stdout, 'REDIS_URL');
    if (up.code !== 0 || !redisUrl) {
      const reason = up.stderr.trim().split('\n').pop() ?? 'the local Redis launcher failed';
      throw new InfrastructureUnavailable(`Redis: no REDIS_URL configured, no Docker engine, none on 127.0.0.1:6379, and ${reason}`);
    }
    redisSource = 'local';
    stops.push(async () => void (await run('bash', [launcher, 'down'], env, logger)));
  }

  return {
    kafkaBrokers,
    redisUrl,
    kafkaSource,
    redisSource,
    async stop() {
      for (const stop of stops.reverse()) await stop().catch((error: unknown) => logger.warn({ err: error }, 'stop failed'));
    },
  };
}
