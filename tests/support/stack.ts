import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { DEV_KEYS, issueKeys, type IssuedKey, type KeyRequest } from '@consult/admin';
import { createLogger, type Logger } from '@consult/config';
import { allTopicSpecs, sha256Hex as sha, topicNames, type TopicNames } from '@consult/contracts';
import { ConsultationWriter } from '@consult/consultation';
import { DeadlineService } from '@consult/deadlines';
import { createGateway, type Gateway, type GatewayOptions } from '@consult/gateway';
import { BatchingProducer, createKafka, ensureTopics, type KafkaClient, type KafkaSecurity } from '@consult/kafka';
import { Notifier, type DeliveryPolicy } from '@consult/notifier';
import { Projector } from '@consult/projector';
import { ConsultationReadModel } from '@consult/read-models';
import { createRedisClient, KeySpace, type RedisClient } from '@consult/redis';
import { ConsultationClient } from '@consult/sdk';
import { CsoWriter } from '@consult/statements';

export type DevKeyName = keyof typeof DEV_KEYS;

export interface StackOptions {
  decisionTimeoutMs?: number;
  /** Reuse the topics and key space of an earlier stack (to test restarts). */
  topicPrefix?: string;
  keyPrefix?: string;
  /** The deadline service's grace after a deadline before closing (default 2000 ms). */
  closeGraceMs?: number;
  /** Delivery timings for the notifier; tests compress them (see NOTIFIER_TEST_POLICY). */
  notifierPolicy?: Partial<DeliveryPolicy>;
  /** Webhooks to loopback/private addresses (the test receivers listen on 127.0.0.1); default true. */
  allowPrivateWebhookTargets?: boolean;
  /** Extra gateway options (rate limits, caps, timeouts) for the tests that exercise them. */
  gatewayOptions?: Partial<GatewayOptions>;
  /** The logger every part logs through (default: warnings and errors to stdout); tests that read logs pass one. */
  logger?: Logger;
  /** Another broker than the global setup's, and how to reach it (TLS, SASL), e.g. a broker that requires SCRAM. */
  kafka?: { brokers: string; security?: KafkaSecurity };
}

/** Retries in milliseconds rather than minutes, so delivery tests run in seconds. */
export const NOTIFIER_TEST_POLICY: Partial<DeliveryPolicy> = { baseDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 6, timeoutMs: 500 };

/**
 * The whole system in this process, on its own topics and Redis key space, against the real broker and Redis
 * the global setup provided. Each part can be stopped and started again to test restarts and rebuilds.
 */
export class Stack {
  readonly logger: Logger;
  readonly kafka: KafkaClient;
  /** One Redis, or a Redis Cluster with `TEST_REDIS=cluster` (see the global setup). */
  readonly redis: RedisClient;
  readonly topics: TopicNames;
  readonly topicPrefix: string;
  readonly keyPrefix: string;
  readonly readModel: ConsultationReadModel;
  writer: ConsultationWriter | undefined;
  csoWriter: CsoWriter | undefined;
  projector: Projector | undefined;
  deadlines: DeadlineService | undefined;
  notifier: Notifier | undefined;
  gateways: Gateway[] = [];
  baseUrls: string[] = [];
  private producer: BatchingProducer | undefined;

  constructor(readonly options: StackOptions = {}) {
    this.logger = options.logger ?? createLogger('test', { level: process.env.TEST_LOG_LEVEL ?? 'warn', pretty: false });
    const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    this.topicPrefix = options.topicPrefix ?? `t${id}`;
    this.keyPrefix = options.keyPrefix ?? `test:${id}`;
    this.kafka = createKafka({
      brokers: (options.kafka?.brokers ?? inject('kafkaBrokers')).split(','),
      clientId: 'test',
      logger: this.logger,
      ...(options.kafka?.security ? { security: options.kafka.security } : {}),
    });
    this.redis = createRedisClient(inject('redisUrl'), this.logger);
    this.topics = topicNames(this.topicPrefix);
    this.readModel = new ConsultationReadModel(new KeySpace(this.keyPrefix));
  }

  get baseUrl(): string {
    return this.baseUrls[0]!;
  }

  client(name: DevKeyName, gateway = 0): ConsultationClient {
    return new ConsultationClient({ baseUrl: this.baseUrls[gateway]!, apiKey: DEV_KEYS[name].secret });
  }

  async start(gateways = 1): Promise<this> {
    await ensureTopics(this.kafka, allTopicSpecs(this.topics), this.logger);
    this.producer = new BatchingProducer(this.kafka, this.logger);
    await this.producer.connect();
    await Promise.all([
      this.startWriter(),
      this.startCsoWriter(),
      this.startProjector(),
      this.startDeadlines(),
      this.startNotifier(),
    ]);
    for (let i = 0; i < gateways; i++) await this.startGateway();
    await issueKeys(this.producer, this.topics, Object.values(DEV_KEYS));
    await this.until(async () => (await this.readModel.principalByKeyHash(this.redis, sha(DEV_KEYS.MNG.secret))) !== null);
    return this;
  }

  async startWriter(): Promise<void> {
    this.writer = new ConsultationWriter({ kafka: this.kafka, logger: this.logger, topics: this.topics });
    await this.writer.start();
    await this.writer.assigned;
  }

  async stopWriter(): Promise<void> {
    await this.writer?.stop();
    this.writer = undefined;
  }

  async startCsoWriter(): Promise<void> {
    this.csoWriter = new CsoWriter({ kafka: this.kafka, logger: this.logger, topics: this.topics });
    await this.csoWriter.start();
    await this.csoWriter.assigned;
  }

  async stopCsoWriter(): Promise<void> {
    await this.csoWriter?.stop();
    this.csoWriter = undefined;
  }

  /** Issues an extra API key (as `npm run admin -- keys create` does) and waits until it works. */
  async issueKey(request: KeyRequest): Promise<IssuedKey> {
    const [key] = await issueKeys(this.producer!, this.topics, [request]);
    await this.until(async () => (await this.readModel.principalByKeyHash(this.redis, sha(key!.secret))) !== null);
    return key!;
  }

  async startProjector(): Promise<void> {
    this.projector = new Projector({
      kafka: this.kafka,
      redis: this.redis,
      logger: this.logger,
      topics: this.topics,
      keyPrefix: this.keyPrefix,
    });
    await this.projector.start();
    await this.projector.assigned;
  }

  async stopProjector(): Promise<void> {
    await this.projector?.stop();
    this.projector = undefined;
  }

  async startDeadlines(): Promise<void> {
    this.deadlines = new DeadlineService({
      kafka: this.kafka,
      redis: this.redis,
      logger: this.logger,
      topics: this.topics,
      keyPrefix: this.keyPrefix,
      ...(this.options.closeGraceMs !== undefined ? { closeGraceMs: this.options.closeGraceMs } : {}),
    });
    await this.deadlines.start();
    await this.deadlines.assigned;
  }

  async stopDeadlines(): Promise<void> {
    await this.deadlines?.stop();
    this.deadlines = undefined;
  }

  async startNotifier(): Promise<Notifier> {
    const notifier = new Notifier({
      kafka: this.kafka,
      redis: this.redis,
      logger: this.logger,
      topics: this.topics,
      keyPrefix: this.keyPrefix,
      policy: { ...NOTIFIER_TEST_POLICY, ...this.options.notifierPolicy },
      allowPrivateTargets: this.options.allowPrivateWebhookTargets ?? true,
    });
    await notifier.start();
    this.notifier = notifier;
    return notifier;
  }

  async stopNotifier(): Promise<void> {
    await this.notifier?.stop();
    this.notifier = undefined;
  }

  async startGateway(overrides: Partial<GatewayOptions> = {}): Promise<Gateway> {
    const gateway = await createGateway({
      kafka: this.kafka,
      redis: this.redis,
      logger: this.logger,
      topics: this.topics,
      keyPrefix: this.keyPrefix,
      decisionTimeoutMs: this.options.decisionTimeoutMs ?? 10_000,
      allowPrivateWebhookTargets: this.options.allowPrivateWebhookTargets ?? true,
      ...this.options.gatewayOptions,
      ...overrides,
    });
    this.baseUrls.push(await gateway.listen(0, '127.0.0.1'));
    this.gateways.push(gateway);
    return gateway;
  }

  /** Sends a command straight to the writer's topic, as the deadline service will. */
  async sendCommand(command: { key: string; [field: string]: unknown }): Promise<void> {
    await this.producer!.send(this.topics.consultationCommands, [{ key: command.key, value: JSON.stringify(command) }]);
  }

  /** Produces records as they are (e.g. poison) to any topic of this stack. */
  async produceRaw(topic: string, messages: { key: string | null; value: string | Buffer | null }[]): Promise<void> {
    await this.producer!.send(topic, messages);
  }

  /** Deletes every Redis key of this stack: read models, offsets, API keys. */
  async flushRedis(): Promise<number> {
    return new KeySpace(this.keyPrefix).clear(this.redis);
  }

  async until(check: () => Promise<boolean>, timeoutMs = 30_000, what = 'condition'): Promise<void> {
    const started = Date.now();
    while (!(await check())) {
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    for (const g of this.gateways) await g.close();
    this.gateways = [];
    this.baseUrls = [];
    await Promise.all([
      this.stopWriter(),
      this.stopCsoWriter(),
      this.stopProjector(),
      this.stopDeadlines(),
      this.stopNotifier(),
    ]);
    await this.producer?.close();
    await new KeySpace(this.keyPrefix).clear(this.redis);
    this.redis.disconnect();
  }
}


export function futureIso(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}

export function consultationInput(overrides: Record<string, unknown> = {}) {
  return {
    reference: 'IO/218',
    title: 'Draft rules of procedure',
    documents: [
      { language: 'en', title: 'Draft rules of procedure' },
      { language: 'ru', title: 'Проект правил процедуры' },
      { language: 'kk', title: 'Рәсімдер ережесінің жобасы' },
    ],
    addressees: ['KHM', 'THA', 'KAZ'],
    // Far enough ahead that no default reminder (7 d, 1 d, 1 h) falls due while a test runs.
    deadline: futureIso(30 * 86_400_000),
    ...overrides,
  };
}
