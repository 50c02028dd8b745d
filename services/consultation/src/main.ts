import { createLogger, kafkaBrokerList, kafkaSecurityOf, loadConfig, runProcess } from '@consult/config';
import { allTopicSpecs, topicNames } from '@consult/contracts';
import { createKafka, ensureTopics } from '@consult/kafka';
import { ConsultationServiceEnv } from './config.js';
import { ConsultationWriter } from './writer.js';

const config = loadConfig(ConsultationServiceEnv);
const logger = createLogger('consultation', { level: config.LOG_LEVEL });

await runProcess(logger, async () => {
  const kafka = createKafka({ brokers: kafkaBrokerList(config.KAFKA_BROKERS), clientId: 'consultation', logger, security: kafkaSecurityOf(config) });
  const topics = topicNames(config.TOPIC_PREFIX);
  await ensureTopics(kafka, allTopicSpecs(topics), logger);
  const writer = new ConsultationWriter({ kafka, logger, topics });
  await writer.start();
  logger.info('consultation writer running');
  return writer;
});
