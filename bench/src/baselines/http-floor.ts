import { Type } from '@sinclair/typebox';
import { CommonEnv, createLogger, kafkaBrokerList, loadConfig, runProcess } from '@consult/config';
import { topicNames, type ConsultationCommand } from '@consult/contracts';
import { createGateway, type CommandDispatcher, type Dispatched } from '@consult/gateway';
import { createKafka } from '@consult/kafka';
import { createRedis } from '@consult/redis';

/**
 * Baseline (a) of the ingest benchmark, the HTTP floor: the real gateway (the same routes, authentication
 * against the key directory in Redis, validation, text rule) whose command dispatch answers "accepted" at once
 * instead of producing to Kafka and waiting for the writer and the projector. Whatever the full system costs
 * beyond this is the price of durability and the single writer.
 */
const config = loadConfig({ ...CommonEnv, PORT: Type.Integer({ minimum: 1, maximum: 65_535 }) });
const logger = createLogger('bench-http-floor', { level: config.LOG_LEVEL });

let issued = 0;
const acceptAtOnce: CommandDispatcher = {
  timeoutMs: 5_000,
  dispatch: (command: ConsultationCommand): Promise<Dispatched> => {
    const data = command.data as Record<string, unknown>;
    issued += 1;
    return Promise.resolve({
      state: 'decided',
      outcome: {
        type: 'command.outcome',
        version: 1,
        commandId: command.id,
        commandType: command.type,
        key: command.key,
        decidedAt: command.receivedAt,
        actor: command.actor,
        result: {
          status: 'accepted',
          sequence: 0,
          replayed: false,
          receipt: {
            commentId: data.commentId,
            trackingNumber: `FLOOR/${String(data.memberState)}/${issued}`,
            receivedAt: command.receivedAt,
            memberState: data.memberState,
            consultationId: command.key,
          },
        },
      },
    });
  },
  dispatchTo: () => Promise.reject(new Error('the HTTP floor serves comment posts only')),
};

await runProcess(logger, async () => {
  const kafka = createKafka({ brokers: kafkaBrokerList(config.KAFKA_BROKERS), clientId: 'bench-http-floor', logger });
  const redis = createRedis(config.REDIS_URL, logger);
  const gateway = await createGateway({
    kafka,
    redis,
    logger,
    topics: topicNames(config.TOPIC_PREFIX),
    keyPrefix: config.KEY_PREFIX,
    commandDispatcher: acceptAtOnce,
  });
  await gateway.listen(config.PORT, '127.0.0.1');
  return {
    stop: async () => {
      await gateway.close();
      redis.disconnect();
    },
  };
});
