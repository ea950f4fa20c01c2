import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * Headers on every response (helmet's choices). Scripts come only from this origin: the console is
 * Vite's bundle under /assets/ and no server-rendered page (workflow, export, self-service) carries
 * a script. Styles allow 'unsafe-inline' because those pages keep their CSS in one <style> block
 * and React and Swagger UI set style attributes. Pages that need less (workflow links) send a
 * stricter policy of their own, which replaces this one.
 */
export const securityHeaders: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      scriptSrcAttr: ["'none'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  // Links in emails open these pages from another site: a strict referrer policy keeps tokens in paths out of Referer headers.
  referrerPolicy: { policy: 'no-referrer' },
  // HSTS only means something over https; behind a TLS proxy it tells browsers to stay there.
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: false },
};

/** The headers helmet sets for these options, computed once: none of them depends on the request. */
function fixedHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = { setHeader: (name: string, value: string) => (headers[name.toLowerCase()] = String(value)), removeHeader: () => {} };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, () => {});
  return headers;
}

/**
 * Sets the security headers on every response. @fastify/helmet rebuilt helmet's middleware from
 * its options on every request, a visible share of a small write's CPU; the headers never change,
 * so they are made once at start-up and added to the reply's own headers, which error answers keep
 * too. A route that sends a stricter Content-Security-Policy of its own replaces this one.
 */
export function sendSecurityHeaders(app: FastifyInstance, options: HelmetOptions = securityHeaders): void {
  const headers = fixedHeaders(options);
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
}
