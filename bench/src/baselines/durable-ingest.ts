import { Type } from '@sinclair/typebox';
import { randomUUID } from 'node:crypto';
import { CommonEnv, createLogger, kafkaBrokerList, loadConfig, runProcess } from '@consult/config';
import { IdempotencyHeaders, IdParams, NewCommentBody } from '@consult/gateway';
import { BatchingProducer, createKafka } from '@consult/kafka';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';

/**
 * Baseline (b) of the ingest benchmark, the durable-ingest ceiling: a bare Fastify route with the comment
 * route's schema that answers 201 once an idempotent acks=all producer has the record (the project's
 * BatchingProducer, which coalesces concurrent sends into one request). No authentication, no writer, no
 * read model: the most any design that acknowledges only what Kafka holds could do on this machine.
 */
const config = loadConfig({ ...CommonEnv, PORT: Type.Integer({ minimum: 1, maximum: 65_535 }), TOPIC: Type.String({ minLength: 1 }) });
const logger = createLogger('bench-durable-ingest', { level: config.LOG_LEVEL });

await runProcess(logger, async () => {
  const kafka = createKafka({ brokers: kafkaBrokerList(config.KAFKA_BROKERS), clientId: 'bench-durable-ingest', logger });
  const producer = new BatchingProducer(kafka, logger);
  await producer.connect();
  const app = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>();
  app.get('/healthz', () => ({ ok: true }));
  app.post(
    '/v1/consultations/:id/comments',
    { schema: { params: IdParams, headers: IdempotencyHeaders, body: NewCommentBody } },
    async (request, reply) => {
      const commentId = randomUUID();
      await producer.send(config.TOPIC, [
        { key: request.params.id, value: JSON.stringify({ commentId, consultationId: request.params.id, ...request.body }) },
      ]);
      return reply.code(201).send({ commentId });
    },
  );
  await app.listen({ port: config.PORT, host: '127.0.0.1' });
  return {
    stop: async () => {
      await app.close();
      await producer.close();
    },
  };
});
