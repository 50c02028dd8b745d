import { inAudience } from '@consult/contracts';
import {
  completeStreamCursor,
  formatStreamCursor,
  parseStreamCursor,
  type ApiKeyRecord,
  type NotificationReadModel,
  type StreamEntry,
} from '@consult/read-models';
import { duplicateClient, type RedisClient as Redis } from '@consult/redis';
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { KeyChange } from '../projection-listener.js';
import { HttpProblem } from '../problems.js';
import type { StreamLeases } from '../stream-leases.js';
import { EventsHeaders } from './subscription-schemas.js';

export interface EventRoutesContext {
  redis: Redis;
  readModel: NotificationReadModel;
  /** Open streams one principal may hold, on all gateways together; more is 429 `event-stream-limit-reached`. */
  maxStreamsPerPrincipal: number;
  /** Where the open streams of each principal are counted (Redis, shared by the gateways). */
  leases: StreamLeases;
  /**
   * Key changes announced by the projector: a revoked key's streams are closed at once; an expiry set on a key
   * (a rotation's overlap) closes its streams when that time comes, not when it is set.
   */
  onKeyChange: (listener: (change: KeyChange) => void) => void;
  /** What the key directory holds of a key now (read again when its expiry changes). */
  keyRecord: (keyHash: string) => Promise<ApiKeyRecord | null>;
  /**
   * Resolves once the read models show this entry's event (or after a bound of its own). The live stream and the
   * read models are fed by different consumers, so without it a client that reloads on an event could read the
   * state from before it and, with no later event to prompt it, keep showing that.
   */
  shown?: (entry: StreamEntry) => Promise<unknown>;
  now?: () => Date;
  /** How long one XREAD waits before a keep-alive comment is sent. */
  keepAliveMs?: number;
}

/** Node's timers hold at most 2^31-1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

interface OpenStream {
  close: () => void;
  /** Closes the stream when this time passes (an ISO date; undefined: never), replacing any earlier time. */
  expireAt: (at: string | undefined) => void;
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
 * stream starts at the present; its first lines give that position as an `id:` without an event, so a client
 * that drops before any event resumes from it. Each client gets its own Redis connection for its blocking reads.
 */
export function eventRoutes(context: EventRoutesContext): FastifyPluginAsyncTypebox {
  const { redis, readModel } = context;
  const now = context.now ?? (() => new Date());
  const open = new Set<() => void>();
  const byKey = new Map<string, Set<OpenStream>>();
  /** Applies what the directory now says of a key to its open streams: closed if revoked or gone, else timed to its expiry. */
  const follow = (keyHash: string, streams: OpenStream[]): void => {
    if (streams.length === 0) return;
    context.keyRecord(keyHash).then(
      (record) => {
        for (const stream of streams)
          if (!record || record.revokedAt) stream.close();
          else stream.expireAt(record.expiresAt);
      },
      // Unable to tell whether the key still works: close (the client resumes with Last-Event-ID and is authenticated again).
      () => streams.forEach((stream) => stream.close()),
    );
  };
  context.onKeyChange((change) => {
    // Issued keys are re-announced by a rebuild after a flush: nothing changed for a key that has streams.
    if (change.type === 'identity.api-key-issued') return;
    const streams = [...(byKey.get(change.keyId) ?? [])];
    if (change.type === 'identity.api-key-revoked') for (const stream of streams) stream.close();
    else follow(change.keyHash, streams);
  });
  return async (app) => {
    // Long-lived responses would hold the server open: end them when the gateway closes.
    app.addHook('preClose', async () => {
      for (const close of open) close();
    });
    app.addHook('onClose', async () => context.leases.stop());

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
        const who = `${principal.kind}:${principal.id}`;
        // Counted in Redis, checked and taken in one step: concurrent opens on any gateway cannot slip past the cap.
        const streamId = randomUUID();
        if (!(await context.leases.acquire(who, streamId, context.maxStreamsPerPrincipal)))
          throw new HttpProblem('event-stream-limit-reached', `at most ${context.maxStreamsPerPrincipal} open event streams per principal; close one`, {}, 5);
        let released = false;
        const release = (): void => {
          if (released) return;
          released = true;
          // A lease that cannot be dropped now lapses on its own (it is no longer renewed).
          context.leases.release(who, streamId).catch((error: unknown) => request.log.warn({ err: error }, 'an event stream lease was not released'));
        };
        let cursor;
        try {
          const given = parseStreamCursor(request.headers['last-event-id']);
          cursor = given ? completeStreamCursor(given, await readModel.streamEnd(redis)) : await readModel.streamEnd(redis);
        } catch (error) {
          release();
          throw error;
        }
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
          'x-request-id': request.id,
        });
        // The position at connection as an `id:` (no event): a client dropped before its first event resumes from
        // here, not from the present, so it does not miss what was published while it was away.
        raw.write(`retry: 2000\nid: ${formatStreamCursor(cursor)}\n: connected at ${formatStreamCursor(cursor)}\n\n`);
        const connection = duplicateClient(redis, { enableAutoPipelining: false, maxRetriesPerRequest: 1 });
        let live = true;
        let wake: () => void = () => undefined;
        let expiry: NodeJS.Timeout | undefined;
        const close = (): void => {
          if (!live) return;
          live = false;
          clearTimeout(expiry);
          open.delete(close);
          byKey.get(principal.keyId)?.delete(stream);
          release();
          connection.disconnect();
          raw.end();
          wake();
        };
        // The stream ends when the key's expiry passes: a timer, moved whenever the expiry is set again.
        const expireAt = (at: string | undefined): void => {
          clearTimeout(expiry);
          expiry = undefined;
          if (!live || at === undefined) return;
          const wait = Date.parse(at) - now().getTime();
          if (wait <= 0) return close();
          // Node's timers hold at most 2^31-1 ms (~24.8 days); a later expiry is reached in steps.
          expiry = setTimeout(() => expireAt(at), Math.min(wait, MAX_TIMER_MS));
          expiry.unref();
        };
        const stream: OpenStream = { close, expireAt };
        open.add(close);
        if (!byKey.has(principal.keyId)) byKey.set(principal.keyId, new Set());
        byKey.get(principal.keyId)!.add(stream);
        raw.on('close', close);
        expireAt(request.apiKey.expiresAt);
        // A change to the key between its authentication and now was announced before this stream listened for it.
        follow(request.apiKey.keyHash, [stream]);
        try {
          while (live) {
            const entries = await readModel.readStream(connection, cursor, 500, context.keepAliveMs ?? 15_000);
            if (!live) break;
            if (entries.length === 0) {
              raw.write(': keep-alive\n\n');
              continue;
            }
            let chunk = '';
            // Per stream, the newest event sent: once the read models show it, they show those before it too.
            const newest = new Map<string, StreamEntry>();
            for (const entry of entries) {
              cursor[entry.partition] = entry.position;
              if (!inAudience(principal, entry.audience)) continue;
              newest.set(`${entry.partition}/${entry.event.key}`, entry);
              chunk += `id: ${formatStreamCursor(cursor)}\nevent: ${entry.event.type}\ndata: ${JSON.stringify(entry.event)}\n\n`;
            }
            if (chunk && context.shown) await Promise.all([...newest.values()].map((entry) => context.shown!(entry)));
            if (!live) break;
            // Back-pressure: a client that reads slowly is not read for until it has taken what it was sent.
            if (chunk && !raw.write(chunk)) await new Promise<void>((resolve) => {
              wake = resolve;
              raw.once('drain', resolve);
            });
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
