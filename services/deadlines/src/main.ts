import { createLogger, kafkaBrokerList, kafkaSecurityOf, loadConfig, runProcess } from '@consult/config';
import { allTopicSpecs, topicNames } from '@consult/contracts';
import { clusterIdOf, createKafka, ensureTopics } from '@consult/kafka';
import { bindKeySpaceToCluster, createRedisClient, KeySpace } from '@consult/redis';
import { DeadlinesEnv } from './config.js';
import { DeadlineService } from './deadline-service.js';

const config = loadConfig(DeadlinesEnv);
const logger = createLogger('deadlines', { level: config.LOG_LEVEL });

await runProcess(logger, async () => {
  const kafka = createKafka({ brokers: kafkaBrokerList(config.KAFKA_BROKERS), clientId: 'deadlines', logger, security: kafkaSecurityOf(config) });
  const redis = createRedisClient(config.REDIS_URL, logger);
  const topics = topicNames(config.TOPIC_PREFIX);
  await ensureTopics(kafka, allTopicSpecs(topics), logger);
  // Derived state of another Kafka cluster would silently hide new events: refuse it.
  await bindKeySpaceToCluster(redis, new KeySpace(config.KEY_PREFIX), await clusterIdOf(kafka), 'fail');
  const service = new DeadlineService({
    kafka,
    redis,
    logger,
    topics,
    keyPrefix: config.KEY_PREFIX,
    closeGraceMs: config.CLOSE_GRACE_MS,
    maxTickMs: config.MAX_TICK_MS,
  });
  await service.start();
  logger.info('deadline service running');
  return {
    stop: async () => {
      await service.stop();
      redis.disconnect();
    },
  };
});
