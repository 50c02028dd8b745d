import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_KEYS } from '@consult/admin';
import { verifySignature } from '@consult/notifier';
import { duplicateClient, KeySpace } from '@consult/redis';
import { NotificationReadModel } from '@consult/read-models';
import { consultationInput, futureIso, Stack, type DevKeyName } from '../support/stack.js';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  json: { deliveryId: string; subscriptionId: string; type: string; event: { id: string; key: string; type: string; data: Record<string, unknown> } };
  at: number;
}

type Behaviour = (request: Received, countOnPath: number) => number | 'hang';

/** A real HTTP receiver on 127.0.0.1, port 0; each path answers as its behaviour says. */
class Receiver {
  readonly received: Received[] = [];
  private readonly behaviours = new Map<string, Behaviour>();
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '/';
        const r: Received = { path, headers: req.headers, body, json: JSON.parse(body) as Received['json'], at: Date.now() };
        this.received.push(r);
        const count = this.received.filter((x) => x.path === path).length;
        const outcome = (this.behaviours.get(path) ?? (() => 204))(r, count);
        if (outcome === 'hang') return; // never answers
        res.writeHead(outcome).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  on(path: string, behaviour: Behaviour): void {
    this.behaviours.set(path, behaviour);
  }

  at(path: string, consultationId?: string): Received[] {
    return this.received.filter((r) => r.path === path && (!consultationId || r.json.event.key === consultationId));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const SECRET = 'whsec-test-0123456789abcdef';

interface Attempt {
  round: number;
  outcome: string;
  statusCode?: number;
  error?: string;
}
interface Item {
  id: string;
  deliveryId: string;
  consultationId: string;
  status: string;
  attempts: Attempt[];
}
/** The loose shape of the API's answers, enough for these assertions. */
interface ApiBody {
  id: string;
  items: Item[];
  [field: string]: unknown;
}

describe('notifications to member-state systems', () => {
  let stack: Stack;
  let receiver: Receiver;
  beforeAll(async () => {
    stack = await new Stack().start();
    receiver = await new Receiver().start();
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.stop();
  });

  async function api(name: DevKeyName, method: string, path: string, body?: unknown): Promise<{ status: number; body: ApiBody }> {
    const response = await fetch(`${stack.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${DEV_KEYS[name].secret}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as ApiBody };
  }

  async function subscribe(name: DevKeyName, path: string, events: string[]): Promise<string> {
    const created = await api(name, 'POST', '/v1/subscriptions', { url: `${receiver.url}${path}`, events, secret: SECRET });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).not.toHaveProperty('secret');
    return created.body.id;
  }

  /** Opens a consultation with one reminder point an hour before its deadline, and makes it due. */
  async function remind(addressees: string[], commenters: DevKeyName[] = []): Promise<{ id: string; sentAt: number }> {
    const created = await stack
      .client('secretariat')
      .createConsultation(consultationInput({ addressees, reminderOffsetsSeconds: [3600], deadline: futureIso(2 * 3_600_000) }));
    expect(created.status).toBe(201);
    const { id, deadline } = created.body;
    for (const c of commenters) expect((await stack.client(c).postComment(id, { body: 'ok', language: 'en' }, randomUUID())).status).toBe(201);
    const sentAt = Date.now();
    // The deadline service's command, stamped past the reminder point (deadline - 1 h).
    const command = {
      id: randomUUID(),
      type: 'consultation.issue-reminder',
      version: 1,
      key: id,
      receivedAt: new Date(Date.parse(deadline) - 3_600_000 + 1_000).toISOString(),
      correlationId: randomUUID(),
      actor: { kind: 'system', id: 'deadline-service' },
      data: { offsetSeconds: 3600, deadline },
    };
    await stack.sendCommand(command);
    return { id, sentAt };
  }

  it('validates subscriptions and never shows the secret', async () => {
    const bad = [
      { url: 'ftp://example.org/x', events: ['consultation.opened'], secret: SECRET },
      { url: `${receiver.url}/x`, events: ['consultation.nonsense'], secret: SECRET },
      { url: `${receiver.url}/x`, events: ['consultation.opened'], secret: 'short' },
      { url: `${receiver.url}/x`, events: ['consultation.opened'], secret: SECRET, extra: 1 },
    ];
    for (const body of bad) expect((await api('KHM', 'POST', '/v1/subscriptions', body)).status).toBe(400);
    const id = await subscribe('KHM', '/validate', ['consultation.opened']);
    const own = await api('KHM', 'GET', `/v1/subscriptions/${id}`);
    expect(own.body).toEqual({ id, url: `${receiver.url}/validate`, events: ['consultation.opened'], createdAt: expect.any(String) });
    expect((await api('THA', 'GET', `/v1/subscriptions/${id}`)).status).toBe(404);
    expect((await api('KHM', 'GET', '/v1/subscriptions')).body.items.map((s) => s.id)).toContain(id);
    expect((await api('KHM', 'DELETE', `/v1/subscriptions/${id}`)).status).toBe(204);
    expect((await api('KHM', 'GET', `/v1/subscriptions/${id}`)).status).toBe(404);
  });

  it('sends a reminder, signed, only to subscriptions of the addressees still pending', async () => {
    const tha = await subscribe('THA', '/r/tha', ['consultation.reminder-issued']);
    await subscribe('KHM', '/r/khm', ['consultation.reminder-issued']);
    await subscribe('secretariat', '/r/sec', ['consultation.reminder-issued']);
    // Auditors are read-only: they cannot have data pushed to a URL (docs/security.md).
    expect((await api('auditor', 'POST', '/v1/subscriptions', { url: `${receiver.url}/r/aud`, events: ['consultation.reminder-issued'], secret: SECRET })).status).toBe(403);
    const { id } = await remind(['KHM', 'THA', 'KAZ'], ['KHM']);
    await stack.until(async () => receiver.at('/r/tha', id).length === 1, 15_000, 'reminder');
    const [got] = receiver.at('/r/tha', id);
    expect(got!.json).toMatchObject({ subscriptionId: tha, type: 'consultation.reminder-issued', event: { key: id, data: { pending: ['THA', 'KAZ'] } } });
    expect(got!.headers['x-delivery-id']).toBe(got!.json.deliveryId);
    expect(verifySignature(SECRET, got!.body, got!.headers['x-signature'] as string)).toBe(true);
    expect(verifySignature('another-secret-0123456789', got!.body, got!.headers['x-signature'] as string)).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.at('/r/khm', id)).toHaveLength(0); // commented: not pending
    expect(receiver.at('/r/sec', id)).toHaveLength(0); // reminders are for member states
    expect(receiver.at('/r/tha', id)).toHaveLength(1);
  });

  it('retries a failing receiver with the same delivery id until it answers 2xx', async () => {
    receiver.on('/flaky', (_r, count) => (count <= 3 ? 500 : 200));
    const sub = await subscribe('KAZ', '/flaky', ['consultation.reminder-issued']);
    const { id } = await remind(['KAZ']);
    await stack.until(async () => receiver.at('/flaky', id).length >= 4, 20_000, 'four attempts');
    await new Promise((r) => setTimeout(r, 600));
    const attempts = receiver.at('/flaky', id);
    expect(attempts).toHaveLength(4);
    expect(new Set(attempts.map((a) => a.headers['x-delivery-id'])).size).toBe(1);
    expect(attempts.map((a) => a.headers['x-delivery-attempt'])).toEqual(['1', '2', '3', '4']);
    await stack.until(async () => (await api('KAZ', 'GET', `/v1/subscriptions/${sub}/deliveries`)).body.items[0]?.status === 'delivered');
    const [delivery] = (await api('KAZ', 'GET', `/v1/subscriptions/${sub}/deliveries`)).body.items;
    expect(delivery!.deliveryId).toBe(attempts[0]!.headers['x-delivery-id']);
    expect(delivery!.attempts.map((a) => a.statusCode)).toEqual([500, 500, 500, 200]);
  });

  it('dead-letters a receiver that never answers without holding back another, and re-sends on request', async () => {
    let dead = true;
    receiver.on('/dead', () => (dead ? 'hang' : 200));
    const deadSub = await subscribe('THA', '/dead', ['consultation.reminder-issued']);
    await subscribe('MNG', '/alive', ['consultation.reminder-issued']);
    const { id, sentAt } = await remind(['THA', 'MNG']);
    await stack.until(async () => receiver.at('/alive', id).length === 1, 10_000, 'the healthy receiver');
    // Prompt: well within the dead receiver's first timeout plus the writer's round trip.
    expect(receiver.at('/alive', id)[0]!.at - sentAt).toBeLessThan(2_000);

    const deadLetters = async () => (await api('THA', 'GET', `/v1/subscriptions/${deadSub}/deliveries?status=dead-lettered`)).body.items;
    await stack.until(async () => (await deadLetters()).length === 1, 30_000, 'the dead letter');
    const [letter] = await deadLetters();
    expect(letter!.attempts).toHaveLength(6);
    for (const a of letter!.attempts) expect(a).toMatchObject({ round: 1, outcome: 'failed', error: expect.stringMatching(/timed out/) });
    expect(receiver.at('/dead', id)).toHaveLength(6);

    dead = false;
    const redo = await api('THA', 'POST', `/v1/subscriptions/${deadSub}/deliveries/${letter!.deliveryId}/redelivery`);
    expect(redo.status).toBe(202);
    await stack.until(async () => receiver.at('/dead', id).length === 7, 10_000, 'the redelivery');
    expect(receiver.at('/dead', id)[6]!.headers['x-delivery-id']).toBe(letter!.deliveryId);
    await stack.until(async () => (await api('THA', 'GET', `/v1/subscriptions/${deadSub}/deliveries`)).body.items[0]?.status === 'delivered');
    const other = await api('KHM', 'POST', `/v1/subscriptions/${deadSub}/deliveries/${letter!.deliveryId}/redelivery`);
    expect(other.status).toBe(404);
  });

  it('keeps subscriptions and delivery history through a Redis flush and restarts, without delivering twice', async () => {
    const sub = await subscribe('secretariat', '/opened', ['consultation.opened']);
    const first = await stack.client('secretariat').createConsultation(consultationInput({ addressees: ['RUS'] }));
    await stack.until(async () => receiver.at('/opened', first.body.id).length === 1, 10_000, 'first opening');

    await Promise.all([stack.stopNotifier(), stack.stopProjector()]);
    await stack.flushRedis();
    await Promise.all([stack.startProjector(), stack.startNotifier()]);
    await stack.until(async () => (await api('secretariat', 'GET', '/v1/subscriptions')).body?.items?.some((s) => s.id === sub) ?? false, 20_000, 'rebuilt subscriptions');
    await stack.until(async () => (await api('secretariat', 'GET', `/v1/subscriptions/${sub}/deliveries`)).body.items.length >= 1, 20_000, 'rebuilt deliveries');
    const [history] = (await api('secretariat', 'GET', `/v1/subscriptions/${sub}/deliveries`)).body.items;
    expect(history).toMatchObject({ status: 'delivered', consultationId: first.body.id, attempts: [{ outcome: 'succeeded', statusCode: 204 }] });

    const second = await stack.client('secretariat').createConsultation(consultationInput({ addressees: ['RUS'] }));
    await stack.until(async () => receiver.at('/opened', second.body.id).length === 1, 10_000, 'second opening');
    const got = receiver.at('/opened', second.body.id)[0]!;
    expect(verifySignature(SECRET, got.body, got.headers['x-signature'] as string)).toBe(true);
    expect(receiver.at('/opened', first.body.id)).toHaveLength(1);
  });

  it('streams the events each caller may see, and resumes from Last-Event-ID', async () => {
    const tha = await EventStream.open(stack.baseUrl, 'THA');
    const khm = await EventStream.open(stack.baseUrl, 'KHM');
    const created = await stack.client('secretariat').createConsultation(consultationInput({ addressees: ['THA', 'KAZ'] }));
    const id = created.body.id;
    expect((await stack.client('THA').postComment(id, { body: 'Thailand agrees.', language: 'en' }, randomUUID())).status).toBe(201);
    await stack.until(async () => tha.of(id).length === 2, 10_000, 'THA events');
    expect(tha.of(id).map((e) => e.event)).toEqual(['consultation.opened', 'consultation.comment-submitted']);
    const lastId = tha.of(id)[1]!.id;
    tha.close();

    expect((await stack.client('KAZ').postComment(id, { body: 'Kazakhstan agrees.', language: 'en' }, randomUUID())).status).toBe(201);
    expect((await stack.client('secretariat').extendDeadline(id, { deadline: futureIso(60 * 86_400_000), reason: 'more time' })).status).toBe(201);
    const resumed = await EventStream.open(stack.baseUrl, 'THA', lastId);
    await stack.until(async () => resumed.of(id).length >= 1, 10_000, 'resumed events');
    await new Promise((r) => setTimeout(r, 300));
    expect(resumed.of(id).map((e) => e.event)).toEqual(['consultation.deadline-extended']);
    expect(khm.of(id)).toEqual([]);
    resumed.close();
    khm.close();
  });

  it('sends an event once the read models show it, so a client that reads on an event finds it', async () => {
    const tha = await EventStream.open(stack.baseUrl, 'THA');
    const created = await stack.client('secretariat').createConsultation(consultationInput({ addressees: ['THA'] }));
    const id = created.body.id;
    await stack.until(async () => tha.of(id).length === 1, 10_000, 'consultation.opened');
    await stack.stopProjector();
    try {
      // Decided by the writer and put on the live stream by the notifier, but not yet in the read models.
      const posted = stack.client('THA').postComment(id, { body: 'Thailand agrees.', language: 'en' }, randomUUID());
      const live = new NotificationReadModel(new KeySpace(stack.keyPrefix));
      const connection = duplicateClient(stack.redis);
      try {
        const start = await live.streamEnd(stack.redis);
        await stack.until(
          async () => (await live.readStream(connection, start, 1_000, 100)).some((e) => e.event.key === id && e.event.type === 'consultation.comment-submitted'),
          10_000,
          'the comment on the live stream',
        );
      } finally {
        connection.disconnect();
      }
      await new Promise((r) => setTimeout(r, 500));
      expect(tha.of(id).map((e) => e.event)).toEqual(['consultation.opened']);
      await stack.startProjector();
      await posted;
    } finally {
      if (!stack.projector) await stack.startProjector();
    }
    await stack.until(async () => tha.of(id).length === 2, 10_000, 'comment event');
    const comments = await api('THA', 'GET', `/v1/consultations/${id}/comments`);
    expect(comments.body.items).toHaveLength(1);
    tha.close();
  });

  it('gives its position on connecting, so a client dropped before any event resumes from there', async () => {
    const first = await EventStream.open(stack.baseUrl, 'THA');
    expect(first.connectedAt).toMatch(/^\d+(\.\d+)+$/);
    first.close();
    // Published while the client was away: a resume from the connection's position gets it.
    const created = await stack.client('secretariat').createConsultation(consultationInput({ addressees: ['THA'] }));
    const resumed = await EventStream.open(stack.baseUrl, 'THA', first.connectedAt);
    await stack.until(async () => resumed.of(created.body.id).length >= 1, 10_000, 'the event published during the drop');
    expect(resumed.of(created.body.id).map((e) => e.event)).toEqual(['consultation.opened']);
    resumed.close();
  });

  it('runs as two notifier processes: each sees every subscription change, and a reminder is delivered once', async () => {
    const first = stack.notifier!;
    const second = await stack.startNotifier();
    try {
      const both = [first, second];
      const id = await subscribe('THA', '/two/tha', ['consultation.reminder-issued']);
      // Only one of them owns subscription.events' partition in the projector: the other follows it itself.
      await stack.until(async () => both.every((n) => n.directory.get(id) !== undefined), 10_000, 'both directories know the subscription');
      const { id: consultation } = await remind(['THA']);
      await stack.until(async () => receiver.at('/two/tha', consultation).length === 1, 15_000, 'reminder');
      await new Promise((r) => setTimeout(r, 1_000));
      expect(receiver.at('/two/tha', consultation)).toHaveLength(1);
      expect((await api('THA', 'DELETE', `/v1/subscriptions/${id}`)).status).toBe(204);
      await stack.until(async () => both.every((n) => n.directory.get(id) === undefined), 10_000, 'both directories dropped it');
    } finally {
      await second.stop();
      stack.notifier = first;
    }
  });
});

interface SseEvent {
  id: string;
  event: string;
  data: { key: string };
}

/** A minimal SSE client over real HTTP (fetch), as a dashboard would use. */
class EventStream {
  readonly events: SseEvent[] = [];
  /** The `id:` the gateway gives on connecting (its position then). */
  connectedAt: string | undefined;
  private constructor(private readonly controller: AbortController) {}

  static async open(baseUrl: string, name: DevKeyName, lastEventId?: string): Promise<EventStream> {
    const controller = new AbortController();
    const response = await fetch(`${baseUrl}/v1/events`, {
      headers: { authorization: `Bearer ${DEV_KEYS[name].secret}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const stream = new EventStream(controller);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let connected!: () => void;
    const ready = new Promise<void>((resolve) => (connected = resolve));
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const fields = new Map<string, string>();
            for (const line of block.split('\n')) {
              const i = line.indexOf(': ');
              if (i > 0 && !line.startsWith(':')) fields.set(line.slice(0, i), line.slice(i + 2));
            }
            if (block.includes(': connected')) {
              stream.connectedAt = fields.get('id');
              connected();
            }
            if (fields.has('data'))
              stream.events.push({ id: fields.get('id') ?? '', event: fields.get('event') ?? '', data: JSON.parse(fields.get('data')!) as { key: string } });
          }
        }
      } catch {
        // aborted
      }
    })();
    await ready;
    return stream;
  }

  of(consultationId: string): SseEvent[] {
    return this.events.filter((e) => e.data.key === consultationId);
  }

  close(): void {
    this.controller.abort();
  }
}
