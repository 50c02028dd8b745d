import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { consoleDistDir } from '@consult/console';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { HttpProblem } from './problems.js';

export const CONSOLE_PATH = '/app';

/** The console page uses only the public API from its own origin: nothing else may run or be fetched. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  // Chart.js sizes its canvas through style attributes.
  "style-src 'self' 'unsafe-inline'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function isConsolePath(path: string): boolean {
  return path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`);
}

/**
 * Serves the built console (apps/console, `vite build`) under /app without authentication: the page holds no
 * data, it signs in with the caller's API key and calls the API like any client. Hashed assets are cached for
 * good; index.html is revalidated so a new build shows at once. Without a build, /app says how to make one.
 */
export function consolePlugin(root = consoleDistDir): FastifyPluginAsync {
  return async (app) => {
    if (!existsSync(join(root, 'index.html'))) {
      const notBuilt = (): never => {
        throw new HttpProblem('service-unavailable', 'the console is not built: run `npm run build` (or `npm start`, which builds it)');
      };
      app.get(CONSOLE_PATH, notBuilt);
      app.get(`${CONSOLE_PATH}/*`, notBuilt);
      return;
    }
    await app.register(fastifyStatic, {
      root,
      prefix: `${CONSOLE_PATH}/`,
      redirect: true,
      index: 'index.html',
      cacheControl: false,
      setHeaders(res, path) {
        res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
        res.setHeader('x-content-type-options', 'nosniff');
        res.setHeader('referrer-policy', 'no-referrer');
        const hashed = path.startsWith(join(root, 'assets'));
        res.setHeader('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
    app.get(CONSOLE_PATH, (_request, reply) => reply.redirect(`${CONSOLE_PATH}/`, 301));
  };
}
