import { attachmentStoreFrom } from '@consult/attachments';
import { createLogger, kafkaBrokerList, kafkaSecurityOf, loadConfig, runProcess } from '@consult/config';
import { allTopicSpecs, topicNames, webhookSecretsKey } from '@consult/contracts';
import { createKafka, ensureTopics } from '@consult/kafka';
import { createRedisClient } from '@consult/redis';
import { createGateway } from './app.js';
import { isTimeZone } from '@consult/domain';
import { GatewayEnv, parseTimeZoneTable } from './config.js';

const config = loadConfig(GatewayEnv);
const memberStateTimeZones = parseTimeZoneTable(config.MEMBER_STATE_TIME_ZONES, isTimeZone);
if (!isTimeZone(config.SECRETARIAT_TIME_ZONE)) throw new Error(`SECRETARIAT_TIME_ZONE ${config.SECRETARIAT_TIME_ZONE} is not an IANA zone`);
const logger = createLogger('gateway', { level: config.LOG_LEVEL });

await runProcess(logger, async () => {
  const kafka = createKafka({ brokers: kafkaBrokerList(config.KAFKA_BROKERS), clientId: 'gateway', logger, security: kafkaSecurityOf(config) });
  const redis = createRedisClient(config.REDIS_URL, logger);
  const topics = topicNames(config.TOPIC_PREFIX);
  // The gateway produces subscription changes too: their topics must exist whichever service starts first.
  await ensureTopics(kafka, allTopicSpecs(topics), logger);
  const gateway = await createGateway({
    kafka,
    redis,
    logger,
    topics,
    keyPrefix: config.KEY_PREFIX,
    decisionTimeoutMs: config.DECISION_TIMEOUT_MS,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    authCacheTtlMs: config.AUTH_CACHE_TTL_MS,
    readyMaxLag: config.READY_MAX_LAG,
    memberStateTimeZones,
    secretariatTimeZone: config.SECRETARIAT_TIME_ZONE,
    attachments: attachmentStoreFrom({
      dir: config.ATTACHMENTS_DIR,
      s3Bucket: config.ATTACHMENTS_S3_BUCKET,
      s3Endpoint: config.ATTACHMENTS_S3_ENDPOINT,
      s3Region: config.ATTACHMENTS_S3_REGION,
    }),
    allowPrivateWebhookTargets: config.ALLOW_PRIVATE_WEBHOOK_TARGETS,
    webhookSecretsKey: webhookSecretsKey(config.WEBHOOK_SECRETS_KEY, config.NODE_ENV === 'production'),
    maxSubscriptionsPerPrincipal: config.MAX_SUBSCRIPTIONS_PER_PRINCIPAL,
    maxEventStreamsPerPrincipal: config.MAX_EVENT_STREAMS_PER_PRINCIPAL,
    // The development keys are in the source code: not honoured in production unless explicitly allowed (benchmarks).
    refuseDevelopmentKeys: !(config.ALLOW_DEVELOPMENT_KEYS ?? config.NODE_ENV !== 'production'),
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    ...(config.RATE_LIMIT_MAX > 0 ? { rateLimit: { max: config.RATE_LIMIT_MAX, windowMs: config.RATE_LIMIT_WINDOW_MS } } : {}),
    ...(config.INSTANCE_ID ? { instanceId: config.INSTANCE_ID } : {}),
  });
  const address = await gateway.listen(config.PORT, config.HOST);
  logger.info({ address }, 'gateway listening');
  return {
    stop: async () => {
      await gateway.close();
      redis.disconnect();
    },
  };
});
