import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { errorHandler } from './problems.js';
import { consolePlugin } from './static-console.js';

describe('consolePlugin', () => {
  const built = mkdtempSync(join(tmpdir(), 'console-built-'));
  const empty = mkdtempSync(join(tmpdir(), 'console-empty-'));
  mkdirSync(join(built, 'assets'));
  writeFileSync(join(built, 'index.html'), '<!doctype html><title>console</title><script type="module" src="/app/assets/app-1.js"></script>');
  writeFileSync(join(built, 'assets', 'app-1.js'), 'export {};');
  afterAll(() => {
    rmSync(built, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  });

  async function app(root: string) {
    const fastify = Fastify();
    fastify.setErrorHandler(errorHandler);
    await fastify.register(consolePlugin(root));
    return fastify;
  }

  it('serves the page under /app with a strict content security policy, revalidating index.html and caching hashed assets', async () => {
    const fastify = await app(built);
    const redirect = await fastify.inject({ url: '/app' });
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location).toBe('/app/');
    const page = await fastify.inject({ url: '/app/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<title>console</title>');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(page.headers['cache-control']).toBe('no-cache');
    const asset = await fastify.inject({ url: '/app/assets/app-1.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await fastify.inject({ url: '/app/../package.json' })).statusCode).not.toBe(200);
    await fastify.close();
  });

  it('says how to build the console when there is no build', async () => {
    const fastify = await app(empty);
    const response = await fastify.inject({ url: '/app/' });
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ code: 'service-unavailable', detail: expect.stringContaining('npm run build') });
    await fastify.close();
  });
});
