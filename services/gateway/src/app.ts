import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryStore, type AttachmentStore } from '@consult/attachments';
import { DEVELOPMENT_WEBHOOK_SECRETS_KEY, notificationTopicNames, STREAM_PARTITIONS, type TopicNames } from '@consult/contracts';
import type { Logger } from '@consult/config';
import { BatchingProducer, type KafkaClient } from '@consult/kafka';
import { ConsultationReadModel, CsoReadModel, NotificationReadModel, projectorOffsetLayout } from '@consult/read-models';
import { KeySpace, RedisOffsetStore, type RedisClient as Redis } from '@consult/redis';
import { createServer } from 'node:http';
import fastifyRateLimit from '@fastify/rate-limit';
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
import { KeyDirectory, KeyNoLongerValid, type AuthenticatedKey, type Principal } from './auth.js';
import { StreamLeases } from './stream-leases.js';
import { CommandBus, type CommandDispatcher } from './command-bus.js';
import { SentCommands } from './sent-commands.js';
import { KnownConsultations, type GatewayContext } from './context.js';
import { ProjectionListener } from './projection-listener.js';
import { DEFAULT_RETRY_AFTER_SECONDS, errorHandler, HttpProblem, problemFromError, sendProblem } from './problems.js';
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
  kafka: KafkaClient;
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
  /** Development and tests only: webhook subscriptions may name loopback and private addresses. */
  allowPrivateWebhookTargets?: boolean;
  /** The operator's key that seals webhook secrets (WEBHOOK_SECRETS_KEY); the development key by default. */
  webhookSecretsKey?: Buffer;
  /** Subscriptions one principal may hold (default 100). */
  maxSubscriptionsPerPrincipal?: number;
  /** Open `GET /v1/events` streams one principal may hold (default 10). */
  maxEventStreamsPerPrincipal?: number;
  /** Production: refuse the well-known development keys. */
  refuseDevelopmentKeys?: boolean;
  /** Per API key, shared by every gateway through Redis; off when absent (tests), on in `main.ts` by default. */
  rateLimit?: { max: number; windowMs: number };
  /** The whole request (headers and body) must arrive within this (default 30 s): a trickled body does not hold a socket. */
  requestTimeoutMs?: number;
  /** The one clock that stamps receipt times; injectable for tests. */
  now?: () => Date;
  /** Member states' IANA zones over the default table (MEMBER_STATE_TIME_ZONES). */
  memberStateTimeZones?: Record<string, string>;
  /** Where a local-date deadline ends (SECRETARIAT_TIME_ZONE); default Asia/Almaty (the CICA Secretariat, Astana). */
  secretariatTimeZone?: string;
  /** Where attachments are stored (default: a directory under the OS temp directory). */
  attachments?: AttachmentStore;
  attachmentMaxBytes?: number;
  /**
   * Replaces the Kafka-backed command bus: only the benchmark's HTTP floor uses it, to measure the same routes
   * (authentication, validation, text rule) without the writer behind them.
   */
  commandDispatcher?: CommandDispatcher;
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

/** How long the live stream waits for the read models to show an event before sending it anyway. */
const SHOWN_WAIT_MS = 2_000;

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
  const bus =
    options.commandDispatcher ??
    new CommandBus(producer, listener, topics.consultationCommands, options.decisionTimeoutMs ?? 5_000, sentCommands);
  const projectorOffsets = new RedisOffsetStore(new KeySpace(options.keyPrefix), 'projector', projectorOffsetLayout(topics));
  const keys = new KeyDirectory(
    redis,
    readModel,
    { ttlMs: options.authCacheTtlMs ?? 5_000, refuseDevelopmentKeys: options.refuseDevelopmentKeys ?? false },
    now,
    () => projectorOffsets.has(redis, topics.identityEvents, 0),
  );
  // A revoked key (or one whose expiry moved) stops working on this gateway as soon as Redis shows it.
  listener.onKeyChange((change) => keys.evict(change.keyHash, change.type === 'identity.api-key-issued'));
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

  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const app = Fastify({
    loggerInstance: logger,
    // Node checks request deadlines on an interval: keep it well under the timeout so the limit holds.
    serverFactory: (handler) =>
      createServer(
        {
          requestTimeout: requestTimeoutMs,
          headersTimeout: Math.min(requestTimeoutMs, 10_000),
          connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(requestTimeoutMs / 4))),
          keepAliveTimeout: 65_000,
        },
        handler,
      ),
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
  app.decorateRequest('apiKey', null as unknown as AuthenticatedKey);
  const csoStandings = new CsoReadModel(new KeySpace(options.keyPrefix));
  app.addHook('onRequest', async (request) => {
    request.receivedAt = now().toISOString();
    const path = request.url.split('?', 1)[0] ?? request.url;
    if (isPublic(path)) return;
    try {
      request.apiKey = await keys.authenticateKey(request.headers.authorization);
      request.principal = request.apiKey.principal;
    } catch (error) {
      // A CSO whose key went with its accreditation is told so where it submits, as documented. A key that
      // expired, or was revoked on its own (a leak) while the accreditation stands, is just refused (401).
      if (
        error instanceof KeyNoLongerValid &&
        error.reason === 'revoked' &&
        error.principal.kind === 'cso' &&
        request.method === 'POST' &&
        path === '/v1/cso-statements' &&
        (await csoStandings.get(redis, error.principal.id, now().toISOString()))?.status === 'revoked'
      )
        throw new HttpProblem('cso-not-accredited', `the accreditation of ${error.principal.id} was revoked: its key no longer works`);
      throw error;
    }
  });
  // The text rule holds for every string a route can see, before the schema and the handler do.
  app.addHook('preValidation', async (request) => {
    assertText(request.params, 'params');
    assertText(request.query, 'querystring');
    assertText(request.body, 'body');
  });
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id);
    // Every "not now" answer says when to come back: a 202's status URL, a 503, a 429.
    if ((reply.statusCode === 202 || reply.statusCode === 503) && !reply.hasHeader('retry-after'))
      reply.header('retry-after', String(reply.statusCode === 202 ? 1 : DEFAULT_RETRY_AFTER_SECONDS));
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

  if (options.rateLimit) {
    const { max, windowMs } = options.rateLimit;
    await app.register(fastifyRateLimit, {
      global: true,
      max,
      timeWindow: windowMs,
      // One counter per API key in Redis, so every gateway instance counts the same requests.
      redis,
      nameSpace: `${options.keyPrefix}:ratelimit:`,
      // After authentication (onRequest) and before the body is read.
      hook: 'preParsing',
      keyGenerator: (request) => (request.principal ? `key:${request.principal.keyId}` : `ip:${request.ip}`),
      allowList: (request) => isPublic(request.url.split('?', 1)[0] ?? request.url),
      // Redis down: the rest of the gateway says so; the limiter does not turn it into 500s of its own.
      skipOnError: true,
      errorResponseBuilder: (_request, context) =>
        new HttpProblem('rate-limited', `at most ${context.max} requests per ${Math.round(windowMs / 1000)} s for this API key; retry in ${context.after}`, {}, Math.max(1, Math.ceil(context.ttl / 1000))),
    });
  }

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
      secretsKey: options.webhookSecretsKey ?? DEVELOPMENT_WEBHOOK_SECRETS_KEY,
      allowPrivateTargets: options.allowPrivateWebhookTargets ?? false,
      maxSubscriptionsPerPrincipal: options.maxSubscriptionsPerPrincipal ?? 100,
    }),
  );
  await app.register(
    eventRoutes({
      redis,
      readModel: notifications,
      maxStreamsPerPrincipal: options.maxEventStreamsPerPrincipal ?? 10,
      leases: new StreamLeases(redis, new KeySpace(options.keyPrefix)),
      onKeyChange: (listener_) => listener.onKeyChange(listener_),
      keyRecord: (keyHash) => readModel.apiKeyRecord(redis, keyHash),
      // Bounded: a stalled projector delays the live stream by at most this, never stops it.
      shown: ({ partition, event }) =>
        partition < STREAM_PARTITIONS
          ? listener.waitForVersion(event.key, event.sequence, SHOWN_WAIT_MS)
          : listener.waitForVersion(CsoReadModel.streamKey(event.key), event.sequence, SHOWN_WAIT_MS, () => csos.csos.versionOf(redis, event.key)),
      now,
    }),
  );
  await app.register(historyRoutes(context));
  await app.register(diplomaticPracticeRoutes(context));
  await app.register(
    attachmentUploadRoutes(context.attachments, options.attachmentMaxBytes, async (csoId) => (await csos.csos.get(redis, csoId, now().toISOString()))?.status ?? null),
  );
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
