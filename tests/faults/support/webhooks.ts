import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  path: string;
  deliveryId: string;
  eventId: string;
  eventType: string;
  at: number;
}

/** A subscriber's endpoint on 127.0.0.1: answers 200 to every POST and records what arrived, by path. */
export class WebhookReceiver {
  readonly deliveries: Delivery[] = [];
  private readonly server: Server;

  constructor() {
    this.server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const header = (name: string): string => String(request.headers[name] ?? '');
        this.deliveries.push({
          path: request.url ?? '/',
          deliveryId: header('x-delivery-id'),
          eventId: header('x-event-id'),
          eventType: header('x-event-type'),
          at: Date.now(),
        });
        response.writeHead(200).end();
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Event ids received at a path. */
  received(path: string): Set<string> {
    return new Set(this.deliveries.filter((d) => d.path === path).map((d) => d.eventId));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
