import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookPost, type Resolve } from './webhook-post.js';

/** Real sockets on 127.0.0.1; names resolved by an injected resolver, as a rebinding DNS server would answer. */
describe('webhook POSTs refuse internal targets at connect time', () => {
  let server: Server;
  let port = 0;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      req.resume();
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const send = (post: ReturnType<typeof createWebhookPost>, url: string) =>
    post(url, { headers: { 'content-type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(2_000) });

  it('refuses a name that resolves to loopback now (DNS rebinding), and literal internal addresses, before sending', async () => {
    // The name resolved to a public address when it was subscribed; now it answers 127.0.0.1.
    const rebound: Resolve = (_host, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]);
    const post = createWebhookPost({ allowPrivateTargets: false, resolve: rebound });
    const before = hits;
    await expect(send(post, `http://hooks.rebound.example:${port}/x`)).rejects.toThrow(/resolves to 127\.0\.0\.1, a loopback address/);
    for (const url of [`http://127.0.0.1:${port}/`, `http://0x7f.1:${port}/`, `http://[::1]:${port}/`, `http://localhost:${port}/`, 'http://169.254.169.254/latest/meta-data/'])
      await expect(send(post, url), url).rejects.toThrow(/loopback|this machine|metadata/);
    // A mix of public and internal answers is refused too: the socket could pick either.
    const mixed: Resolve = (_host, callback) => callback(null, [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }]);
    await expect(send(createWebhookPost({ allowPrivateTargets: false, resolve: mixed }), `http://mixed.example:${port}/`)).rejects.toThrow(/private/);
    expect(hits).toBe(before);
  });

  it('delivers to the same names when the development setting allows private targets', async () => {
    const resolve: Resolve = (_host, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]);
    const post = createWebhookPost({ allowPrivateTargets: true, resolve });
    const before = hits;
    expect(await send(post, `http://hooks.rebound.example:${port}/x`)).toBe(204);
    expect(await send(createWebhookPost({ allowPrivateTargets: true }), `http://127.0.0.1:${port}/x`)).toBe(204);
    expect(hits).toBe(before + 2);
  });
});
