import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryStore, type AttachmentStore } from '@consult/attachments';
import { notificationTopicNames, type TopicNames } from '@consult/contracts';
import type { Logger } from '@consult/config';
import { BatchingProducer, type Kafka } from '@consult/kafka';
import { ConsultationReadModel, CsoReadModel, NotificationReadModel } from '@consult/read-models';
import { KeySpace, RedisOffsetStore, type Redis } from '@consult/redis';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import { DEFAULT_SECRETARIAT_TIME_ZONE } from '@consult/domain';
import { KeyDirectory, type Principal } from './auth.js';
import { CommandBus } from './command-bus.js';
import { SentCommands } from './sent-commands.js';
import { KnownConsultations, type GatewayContext } from './context.js';
import { ProjectionListener } from './projection-listener.js';
import { errorHandler, HttpProblem, problemFromError, sendProblem } from './problems.js';
import { ReadinessProbe } from './readiness.js';
import { assertText, assertUtf8Charset, decodeUtf8, isDateTime, isUri } from './text-rule.js';
import { commandRoutes } from './routes/commands.js';
import { commentRoutes } from './routes/comments.js';
import { consultationRoutes } from './routes/consultations.js';
import { csoContext, csoRoutes } from './routes/csos.js';
import { historyRoutes } from './routes/history.js';
import { diplomaticPracticeRoutes } from './routes/diplomatic-practice.js';
import { attachmentUploadRoutes } from './routes/attachments.js';
import { attachmentDownloadRoutes } from './routes/attachment-downloads.js';
import { operationsRoutes } from './routes/operations.js';
import { statementRoutes } from './routes/statements.js';
import { eventRoutes } from './routes/events.js';
import { subscriptionRoutes } from './routes/subscriptions.js';
import { principalRoutes } from './routes/principal.js';
import { reportRoutes } from './routes/reports.js';
import { consolePlugin, isConsolePath } from './static-console.js';

export interface GatewayOptions {
  kafka: Kafka;
  redis: Redis;
  logger: Logger;
  topics: TopicNames;
  keyPrefix: string;
  instanceId?: string;
  decisionTimeoutMs?: number;
  bodyLimitBytes?: number;
  authCacheTtlMs?: number;
  readyMaxLag?: number;
  /** The built console to serve under /app (default: apps/console/dist). */
  consoleDir?: string;
  /** The one clock that stamps receipt times; injectable for tests. */
  now?: () => Date;
  /** Member states' IANA zones over the default table (MEMBER_STATE_TIME_ZONES). */
  memberStateTimeZones?: Record<string, string>;
  /** Where a local-date deadline ends (SECRETARIAT_TIME_ZONE); default Asia/Almaty (the CICA Secretariat, Astana). */
  secretariatTimeZone?: string;
  /** Where attachments are stored (default: a directory under the OS temp directory). */
  attachments?: AttachmentStore;
  attachmentMaxBytes?: number;
}

export type GatewayApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  Logger,
  TypeBoxTypeProvider
>;

export interface Gateway {
  app: GatewayApp;
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

const PUBLIC_PATHS = new Set(['/healthz', '/readyz']);
const isPublic = (url: string): boolean =>
  PUBLIC_PATHS.has(url) || url.startsWith('/docs') || url.startsWith('/problems/') || isConsolePath(url);

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { kafka, redis, logger, topics } = options;
  const now = options.now ?? (() => new Date());
  const readModel = new ConsultationReadModel(new KeySpace(options.keyPrefix));
  const producer = new BatchingProducer(kafka, logger.child({ component: 'command-producer' }));
  const listener = new ProjectionListener(redis, readModel, logger);
  await Promise.all([producer.connect(), listener.start()]);
  const sentCommands = new SentCommands(redis, new KeySpace(options.keyPrefix));
  const bus = new CommandBus(producer, listener, topics.consultationCommands, options.decisionTimeoutMs ?? 5_000, sentCommands);
  const projectorOffsets = new RedisOffsetStore(new KeySpace(options.keyPrefix), 'projector');
  const identityField = RedisOffsetStore.field(topics.identityEvents, 0);
  const keys = new KeyDirectory(redis, readModel, options.authCacheTtlMs ?? 5_000, async () =>
    (await redis.hexists(projectorOffsets.hashKey, identityField)) === 1,
  );
  const readiness = new ReadinessProbe(kafka, redis, topics, options.keyPrefix, options.readyMaxLag ?? 200);
  const context: GatewayContext = {
    redis,
    readModel,
    bus,
    instanceId: options.instanceId ?? randomUUID(),
    consultations: new KnownConsultations(redis, readModel),
    sentCommands,
    zones: {
      memberStates: options.memberStateTimeZones ?? {},
      secretariat: options.secretariatTimeZone ?? DEFAULT_SECRETARIAT_TIME_ZONE,
    },
    attachments: options.attachments ?? new DirectoryStore(join(tmpdir(), 'consult-attachments')),
  };

  const app = Fastify({
    loggerInstance: logger,
    // Per-request logs would cost more than the requests at thousands per second; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes ?? 262_144,
    genReqId: () => randomUUID(),
    ajv: {
      // Unknown fields and wrong types are errors, never silently removed or coerced.
      // Lengths count UTF-16 code units, as the event contracts do (`unicode: false`), and the formats are the
      // text rule's (text-rule.ts), so nothing that passes the HTTP schema fails deeper inside.
      customOptions: {
        removeAdditional: false,
        coerceTypes: false,
        allErrors: true,
        useDefaults: false,
        unicode: false,
        // Ajv calls `unicode` deprecated but honours it; its own notices go to our log, without that one.
        logger: {
          log: (...args: unknown[]) => logger.debug({ ajv: args }, 'ajv'),
          warn: (...args: unknown[]) => {
            if (!String(args[0]).startsWith('DEPRECATED: option unicode')) logger.warn({ ajv: args }, 'ajv');
          },
          error: (...args: unknown[]) => logger.error({ ajv: args }, 'ajv'),
        },
      },
      onCreate: (ajv) => {
        ajv.addFormat('date-time', { type: 'string', validate: isDateTime });
        ajv.addFormat('uri', { type: 'string', validate: isUri });
      },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // The API speaks JSON only: any other media type is a 415, not a string the schema then rejects.
  app.removeContentTypeParser('text/plain');
  // Bodies are decoded as strict UTF-8: malformed bytes are a 400, never silently replaced with U+FFFD.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      assertUtf8Charset(request.headers['content-type']);
      void parseJson(request, decodeUtf8(body as Buffer), done);
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.decorateRequest('receivedAt', '');
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (request) => {
    request.receivedAt = now().toISOString();
    const path = request.url.split('?', 1)[0] ?? request.url;
    if (!isPublic(path)) request.principal = await keys.authenticate(request.headers.authorization);
  });
  // The text rule holds for every string a route can see, before the schema and the handler do.
  app.addHook('preValidation', async (request) => {
    assertText(request.params, 'params');
    assertText(request.query, 'querystring');
    assertText(request.body, 'body');
  });
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id);
    return payload;
  });
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    // Right after a Redis flush the read models are rebuilt from Kafka within seconds: a resource missing
    // then may exist, so the answer is "retry" rather than a 404 an integrator would act on.
    if (problemFromError(error).status === 404 && (await readiness.rebuilding().catch(() => false)))
      return sendProblem(reply, new HttpProblem('service-unavailable', 'the read models are being rebuilt from Kafka; retry shortly'), request.url);
    return errorHandler.call(app, error, request, reply);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new HttpProblem('not-found', `${request.method} ${request.url} does not exist`), request.url),
  );

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Consultation messaging API',
        version: '1.0.0',
        description:
          'Circulate documents to member states, collect comments by a deadline. Authenticate with `Authorization: Bearer <key>`. Errors are RFC 9457 problem+json.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  await app.register(operationsRoutes(readiness));
  await app.register(consultationRoutes(context));
  await app.register(commentRoutes(context));
  await app.register(commandRoutes(context));
  const csos = csoContext(context, new CsoReadModel(new KeySpace(options.keyPrefix)), topics.csoCommands, now);
  await app.register(csoRoutes(csos));
  await app.register(statementRoutes(csos));
  const notifications = new NotificationReadModel(new KeySpace(options.keyPrefix));
  await app.register(
    subscriptionRoutes({
      redis,
      producer,
      readModel: notifications,
      topics: notificationTopicNames(topics),
      visibleTimeoutMs: options.decisionTimeoutMs ?? 5_000,
    }),
  );
  await app.register(eventRoutes({ redis, readModel: notifications }));
  await app.register(historyRoutes(context));
  await app.register(diplomaticPracticeRoutes(context));
  await app.register(attachmentUploadRoutes(context.attachments, options.attachmentMaxBytes));
  await app.register(attachmentDownloadRoutes(csos));
  await app.register(principalRoutes());
  await app.register(reportRoutes({ ...csos, now }));
  await app.register(consolePlugin(options.consoleDir));

  return {
    app,
    async listen(port, host) {
      return app.listen({ port, host });
    },
    async close() {
      await app.close();
      await listener.stop();
      await producer.close();
    },
  };
}
