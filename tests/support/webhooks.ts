import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A webhook as received: the notification body and the headers it came with. */
export interface ReceivedWebhook {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  json: { deliveryId: string; subscriptionId: string; type: string; event: { id: string; key: string; type: string; data: Record<string, unknown> } };
}

/** A real HTTP receiver on 127.0.0.1 (port 0) that answers 204 and keeps what it got, per path. */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Status to answer per path for its n-th request (default 204). */
  private readonly answers = new Map<string, (n: number) => number>();
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '/';
        this.received.push({ path, headers: req.headers, body, json: JSON.parse(body) as ReceivedWebhook['json'] });
        res.writeHead(this.answers.get(path)?.(this.at(path).length) ?? 204).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  answer(path: string, status: (n: number) => number): void {
    this.answers.set(path, status);
  }

  at(path: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface SseEvent {
  id: string;
  event: string;
  data: { key: string; type: string; data: Record<string, unknown> };
}

/** A minimal Server-Sent Events client of `GET /v1/events` over real HTTP (fetch). */
export class EventStreamClient {
  readonly events: SseEvent[] = [];
  private constructor(private readonly controller: AbortController) {}

  static async open(baseUrl: string, apiKey: string, lastEventId?: string): Promise<EventStreamClient> {
    const controller = new AbortController();
    const response = await fetch(`${baseUrl}/v1/events`, {
      headers: { authorization: `Bearer ${apiKey}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      signal: controller.signal,
    });
    if (response.status !== 200) throw new Error(`GET /v1/events answered ${response.status}`);
    const stream = new EventStreamClient(controller);
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
            if (block.includes(': connected')) connected();
            const fields = new Map<string, string>();
            for (const line of block.split('\n')) {
              const i = line.indexOf(': ');
              if (i > 0 && !line.startsWith(':')) fields.set(line.slice(0, i), line.slice(i + 2));
            }
            if (fields.has('data'))
              stream.events.push({ id: fields.get('id') ?? '', event: fields.get('event') ?? '', data: JSON.parse(fields.get('data')!) as SseEvent['data'] });
          }
        }
      } catch {
        // aborted
      }
    })();
    await ready;
    return stream;
  }

  close(): void {
    this.controller.abort();
  }
}
