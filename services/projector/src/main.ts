import { createLogger, kafkaBrokerList, kafkaSecurityOf, loadConfig, runProcess } from '@consult/config';
import { allTopicSpecs, topicNames } from '@consult/contracts';
import { clusterIdOf, createKafka, ensureTopics } from '@consult/kafka';
import { bindKeySpaceToCluster, createRedisClient, KeySpace } from '@consult/redis';
import { ProjectorEnv } from './config.js';
import { Projector } from './projector.js';

const config = loadConfig(ProjectorEnv);
const logger = createLogger('projector', { level: config.LOG_LEVEL });

await runProcess(logger, async () => {
  const kafka = createKafka({ brokers: kafkaBrokerList(config.KAFKA_BROKERS), clientId: 'projector', logger, security: kafkaSecurityOf(config) });
  const redis = createRedisClient(config.REDIS_URL, logger);
  const topics = topicNames(config.TOPIC_PREFIX);
  await ensureTopics(kafka, allTopicSpecs(topics), logger);
  // Derived state of another Kafka cluster would silently hide new events: refuse it.
  await bindKeySpaceToCluster(redis, new KeySpace(config.KEY_PREFIX), await clusterIdOf(kafka), 'fail');
  const projector = new Projector({ kafka, redis, logger, topics, keyPrefix: config.KEY_PREFIX });
  await projector.start();
  logger.info('projector running');
  return {
    stop: async () => {
      await projector.stop();
      redis.disconnect();
    },
  };
});
