import { DEVELOPMENT_WEBHOOK_SECRETS_KEY, notificationTopicNames, type NotificationTopicNames, type TopicNames } from '@consult/contracts';
import type { Logger } from '@consult/config';
import { BatchingProducer, type KafkaClient } from '@consult/kafka';
import { ConsultationReadModel, CsoReadModel } from '@consult/read-models';
import { KeySpace, type RedisClient as Redis } from '@consult/redis';
import { DataKeyStore } from './data-keys.js';
import { KeyRevocations } from './key-revocations.js';
import { SubscriptionDirectory } from './directory.js';
import { NotificationProjector } from './projector.js';
import { NotificationRouter } from './router.js';
import type { WebhookPost } from './webhook-post.js';
import { DEFAULT_DELIVERY_POLICY, DeliveryWorker, type DeliveryPolicy } from './worker.js';

export interface NotifierOptions {
  kafka: KafkaClient;
  redis: Redis;
  logger: Logger;
  topics: TopicNames;
  keyPrefix: string;
  policy?: Partial<DeliveryPolicy>;
  /** Replaces the HTTP client of the delivery worker (tests, benchmarks). */
  post?: WebhookPost;
  /** Development and tests only: webhooks may reach loopback and private addresses. */
  allowPrivateTargets?: boolean;
  /** The operator's key that opens webhook secrets (WEBHOOK_SECRETS_KEY); the development key by default. */
  secretsKey?: Buffer;
}

/**
 * The notifier: projector (subscriptions, delivery history and the live stream into Redis), router (consultation
 * events → `delivery.requested`, transactional) and delivery worker (signed POSTs with retries). One process
 * holds all three so the router sees a subscription as soon as the gateway has shown it to its owner; several
 * such processes share the partitions, each following the subscriptions itself (SubscriptionDirectory).
 */
export class Notifier {
  readonly directory = new SubscriptionDirectory();
  readonly notificationTopics: NotificationTopicNames;
  readonly projector: NotificationProjector;
  readonly router: NotificationRouter;
  readonly worker: DeliveryWorker;
  private readonly producer: BatchingProducer;
  readonly dataKeys: DataKeyStore;
  readonly revocations: KeyRevocations;
  private markDirectoryReady!: () => void;
  private readonly directoryReady = new Promise<void>((resolve) => (this.markDirectoryReady = resolve));

  constructor(private readonly options: NotifierOptions) {
    const { kafka, redis, topics, keyPrefix } = options;
    const logger = options.logger.child({ component: 'notifier' });
    this.notificationTopics = notificationTopicNames(topics);
    const notificationTopics = this.notificationTopics;
    const directory = this.directory;
    const directoryReady = this.directoryReady;
    this.producer = new BatchingProducer(kafka, logger.child({ component: 'delivery-producer' }));
    this.dataKeys = new DataKeyStore({
      kafka,
      logger: logger.child({ component: 'data-keys' }),
      topic: notificationTopics.subscriptionKeys,
      operatorKey: options.secretsKey ?? DEVELOPMENT_WEBHOOK_SECRETS_KEY,
    });
    const history = new ConsultationReadModel(new KeySpace(keyPrefix));
    const statements = new CsoReadModel(new KeySpace(keyPrefix));
    this.revocations = new KeyRevocations({ kafka, logger: logger.child({ component: 'key-revocations' }), topic: topics.identityEvents });
    directory.revocations = this.revocations;
    this.projector = new NotificationProjector({ kafka, redis, logger, topics, notificationTopics, keyPrefix, directory, producer: this.producer });
    this.router = new NotificationRouter({ kafka, logger, topics, notificationTopics, directory, directoryReady });
    this.worker = new DeliveryWorker({
      kafka,
      logger,
      topics,
      notificationTopics,
      producer: this.producer,
      directory,
      directoryReady,
      dataKeys: this.dataKeys,
      loadEvent: async (ref, eventId) => {
        const [raw] =
          'csoId' in ref
            ? await statements.streamHistoryPage(redis, ref.csoId, { after: ref.sequence - 1, limit: 1, upTo: ref.sequence })
            : await history.historyPage(redis, ref.consultationId, { after: ref.sequence - 1, limit: 1 });
        const event = raw ? (JSON.parse(raw) as { id?: string }) : null;
        return event?.id === eventId ? event : null;
      },
      policy: { ...DEFAULT_DELIVERY_POLICY, ...options.policy },
      ...(options.post ? { post: options.post } : {}),
      allowPrivateTargets: options.allowPrivateTargets ?? false,
    });
  }

  async start(): Promise<void> {
    await this.producer.connect();
    await Promise.all([this.dataKeys.start(), this.revocations.start()]);
    await this.directory.load(this.options.kafka, this.notificationTopics.subscriptionEvents, this.options.logger);
    this.markDirectoryReady();
    await this.directory.follow(this.options.kafka, this.notificationTopics.subscriptionEvents, this.options.logger.child({ component: 'directory' }));
    await Promise.all([this.projector.start(), this.router.start(), this.worker.start()]);
    await Promise.all([this.projector.assigned, this.router.assigned, this.worker.assigned]);
  }

  async stop(): Promise<void> {
    await this.worker.stop();
    await Promise.all([this.router.stop(), this.projector.stop()]);
    await this.producer.close();
    await Promise.all([this.dataKeys.stop(), this.revocations.stop(), this.directory.stop()]);
  }
}
