import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { AppContext } from '../context.ts';
import type { App } from './app.ts';

/** dist/web next to the bundle (dist/main.js) or, when run from source, two levels up from here. */
function consoleDir(): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.join(here, 'web'), path.resolve(here, '..', '..', 'dist', 'web')]) {
    if (fs.existsSync(path.join(candidate, 'index.html'))) return candidate;
  }
  return null;
}

const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/**
 * The built console (web/ → dist/web, see web/build.js): hashed assets under /assets/ and
 * index.html for every other GET outside /api, so the single-page app owns its paths. Only static
 * files are served here: Vite is never loaded by the server.
 */
export async function consoleRoutes(app: App, _ctx: AppContext): Promise<void> {
  const dir = consoleDir();
  if (!dir) {
    // Not built (e.g. running from source without `npm start`): lead to the API documentation.
    app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/api/docs'));
    return;
  }
  const indexHtml = fs.readFileSync(path.join(dir, 'index.html'));
  await app.register(fastifyStatic, {
    root: path.join(dir, 'assets'),
    prefix: '/assets/',
    decorateReply: false,
    immutable: true,
    maxAge: '365d',
    index: false,
  });
  const sendIndex = (reply: { header: (k: string, v: string) => unknown; type: (t: string) => { send: (b: Buffer) => unknown } }) => {
    reply.header('cache-control', 'no-cache');
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    return reply.type('text/html; charset=utf-8').send(indexHtml);
  };
  app.get('/', { schema: { hide: true } }, async (_request, reply) => sendIndex(reply));
  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    if (request.url.startsWith('/api/') || request.url === '/api' || request.url.startsWith('/assets/')) return reply.callNotFound();
    return sendIndex(reply);
  });
}
