import { createLogger, kafkaBrokerList, kafkaSecurityOf, loadConfig, runProcess } from '@consult/config';
import { allTopicSpecs, topicNames, webhookSecretsKey } from '@consult/contracts';
import { clusterIdOf, createKafka, ensureTopics } from '@consult/kafka';
import { bindKeySpaceToCluster, createRedisClient, KeySpace } from '@consult/redis';
import { NotifierEnv } from './config.js';
import { Notifier } from './notifier.js';

const config = loadConfig(NotifierEnv);
const logger = createLogger('notifier', { level: config.LOG_LEVEL });

await runProcess(logger, async () => {
  const kafka = createKafka({ brokers: kafkaBrokerList(config.KAFKA_BROKERS), clientId: 'notifier', logger, security: kafkaSecurityOf(config) });
  const redis = createRedisClient(config.REDIS_URL, logger);
  const topics = topicNames(config.TOPIC_PREFIX);
  await ensureTopics(kafka, allTopicSpecs(topics), logger);
  // Derived state of another Kafka cluster would silently hide new events: refuse it.
  await bindKeySpaceToCluster(redis, new KeySpace(config.KEY_PREFIX), await clusterIdOf(kafka), 'fail');
  const notifier = new Notifier({
    kafka,
    redis,
    logger,
    topics,
    keyPrefix: config.KEY_PREFIX,
    allowPrivateTargets: config.ALLOW_PRIVATE_WEBHOOK_TARGETS,
    secretsKey: webhookSecretsKey(config.WEBHOOK_SECRETS_KEY, config.NODE_ENV === 'production'),
    policy: {
      baseDelayMs: config.DELIVERY_BASE_DELAY_MS,
      maxDelayMs: config.DELIVERY_MAX_DELAY_MS,
      maxAttempts: config.DELIVERY_MAX_ATTEMPTS,
      timeoutMs: config.DELIVERY_TIMEOUT_MS,
      concurrency: config.DELIVERY_CONCURRENCY,
      perSubscriptionConcurrency: config.DELIVERY_PER_SUBSCRIPTION_CONCURRENCY,
    },
  });
  await notifier.start();
  logger.info('notifier running');
  return {
    stop: async () => {
      await notifier.stop();
      redis.disconnect();
    },
  };
});
