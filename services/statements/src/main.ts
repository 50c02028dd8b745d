import { createLogger, kafkaBrokerList, kafkaSecurityOf, loadConfig, runProcess } from '@consult/config';
import { allTopicSpecs, topicNames } from '@consult/contracts';
import { createKafka, ensureTopics } from '@consult/kafka';
import { StatementsServiceEnv } from './config.js';
import { CsoWriter } from './writer.js';

const config = loadConfig(StatementsServiceEnv);
const logger = createLogger('statements', { level: config.LOG_LEVEL });

await runProcess(logger, async () => {
  const kafka = createKafka({ brokers: kafkaBrokerList(config.KAFKA_BROKERS), clientId: 'statements', logger, security: kafkaSecurityOf(config) });
  const topics = topicNames(config.TOPIC_PREFIX);
  await ensureTopics(kafka, allTopicSpecs(topics), logger);
  const writer = new CsoWriter({ kafka, logger, topics });
  await writer.start();
  logger.info('CSO statements writer running');
  return writer;
});
