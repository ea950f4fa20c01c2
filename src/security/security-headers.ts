import type { FastifyHelmetOptions } from '@fastify/helmet';

/**
 * Headers on every response (@fastify/helmet). Scripts come only from this origin: the console is
 * Vite's bundle under /assets/ and no server-rendered page (workflow, export, self-service) carries
 * a script. Styles allow 'unsafe-inline' because those pages keep their CSS in one <style> block
 * and React and Swagger UI set style attributes. Pages that need less (workflow links) send a
 * stricter policy of their own, which replaces this one.
 */
export const securityHeaders: FastifyHelmetOptions = {
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
