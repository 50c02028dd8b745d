import { inAudience } from '@consult/contracts';
import { completeStreamCursor, formatStreamCursor, parseStreamCursor, type NotificationReadModel } from '@consult/read-models';
import type { Redis } from '@consult/redis';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EventsHeaders } from './subscription-schemas.js';

export interface EventRoutesContext {
  redis: Redis;
  readModel: NotificationReadModel;
  /** How long one XREAD waits before a keep-alive comment is sent. */
  keepAliveMs?: number;
}

/**
 * `GET /v1/events`: consultation and statement events as Server-Sent Events, filtered with the same pure function as the
 * webhooks (`inAudience(audienceOf(event))`; the audience is computed once, when the notifier appends the
 * event to the live stream).
 *
 * Source: the notifier keeps one capped Redis stream per partition of `consultation.events` and of
 * `cso.events` (statement events only), whose entry ids are the Kafka offsets. An SSE id is the cursor after the event (one position per partition, e.g.
 * `12.0.5.0.0.3`); it only depends on Kafka, so `Last-Event-ID` resumes exactly even after a Redis flush and
 * rebuild, and within the cap (~10,000 events per partition) nothing is lost. Without `Last-Event-ID` the
 * stream starts at the present. Each client gets its own Redis connection for its blocking reads.
 */
export function eventRoutes(context: EventRoutesContext): FastifyPluginAsyncTypebox {
  const { redis, readModel } = context;
  const open = new Set<() => void>();
  return async (app) => {
    // Long-lived responses would hold the server open: end them when the gateway closes.
    app.addHook('preClose', async () => {
      for (const close of open) close();
    });

    app.get(
      '/v1/events',
      {
        schema: {
          summary: 'Live consultation and statement events the caller may see (text/event-stream), resumable with Last-Event-ID',
          tags: ['notifications'],
          headers: EventsHeaders,
        },
      },
      async (request, reply) => {
        const principal = request.principal;
        const given = parseStreamCursor(request.headers['last-event-id']);
        const cursor = given ? completeStreamCursor(given, await readModel.streamEnd(redis)) : await readModel.streamEnd(redis);
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
          'x-request-id': request.id,
        });
        raw.write(`retry: 2000\n: connected at ${formatStreamCursor(cursor)}\n\n`);
        const connection = redis.duplicate({ enableAutoPipelining: false, maxRetriesPerRequest: 1 });
        let live = true;
        const close = (): void => {
          if (!live) return;
          live = false;
          connection.disconnect();
          raw.end();
        };
        open.add(close);
        raw.on('close', close);
        try {
          while (live) {
            const entries = await readModel.readStream(connection, cursor, 500, context.keepAliveMs ?? 15_000);
            if (!live) break;
            if (entries.length === 0) {
              raw.write(': keep-alive\n\n');
              continue;
            }
            let chunk = '';
            for (const entry of entries) {
              cursor[entry.partition] = entry.position;
              if (!inAudience(principal, entry.audience)) continue;
              chunk += `id: ${formatStreamCursor(cursor)}\nevent: ${entry.event.type}\ndata: ${JSON.stringify(entry.event)}\n\n`;
            }
            if (chunk) raw.write(chunk);
          }
        } catch (error) {
          if (live) request.log.warn({ err: error }, 'event stream failed');
        } finally {
          open.delete(close);
          close();
        }
      },
    );
  };
}
