import Fastify, { LogController, type FastifyInstance, type FastifyBaseLogger, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  hasZodFastifySchemaValidationErrors,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { AppContext } from '../context.ts';
import { authResolver } from '../access/auth.ts';
import { TooManyRequests } from '../security/rate-limits.ts';
import { Problem } from './problem.ts';
import { sendSecurityHeaders } from '../security/security-headers.ts';
import { guardJsonBodies, refuseNulInUrl } from '../security/json-body-guard.ts';
import { registerDomainRoutes } from './routes.ts';

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

export interface BuildAppOptions {
  /** extra fastify plugins mounted after the API (the console and public pages) */
  extend?: (app: App) => Promise<void> | void;
}

function fieldName(location: string | undefined, instancePath: string, params: Record<string, unknown>): string {
  const path = instancePath.replace(/^\//, '').replace(/\//g, '.');
  const missing = typeof params?.missingProperty === 'string' ? params.missingProperty : '';
  const field = [path, missing].filter(Boolean).join('.');
  return location && location !== 'body' ? `${location}.${field}`.replace(/\.$/, '') : field || location || 'body';
}

export async function buildApp(ctx: AppContext, options: BuildAppOptions = {}): Promise<App> {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    // Request logs carry the route pattern only: query strings may hold emails or names.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1_048_576,
    trustProxy: false,
    // Slow clients are cut off: a request must arrive whole within requestTimeout, and a connection
    // silent for connectionTimeout is closed (both only matter once `lethe serve` listens).
    requestTimeout: ctx.config.httpRequestTimeoutSeconds * 1000,
    connectionTimeout: ctx.config.httpIdleTimeoutSeconds * 1000,
    keepAliveTimeout: ctx.config.httpKeepAliveSeconds * 1000,
  }).withTypeProvider<ZodTypeProvider>();
  app.server.headersTimeout = Math.min(60_000, ctx.config.httpRequestTimeoutSeconds * 1000);
  guardJsonBodies(app);
  app.addHook('onRequest', refuseNulInUrl);
  // A listening server leaves WAL checkpoints to a thread of their own, off the requests' path.
  let endCheckpoints: (() => Promise<void>) | null = null;
  app.addHook('onListen', async () => {
    endCheckpoints ??= ctx.store.checkpointWhileServing();
  });
  app.addHook('onClose', async () => {
    await endCheckpoints?.();
  });

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('auth', null);

  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof TooManyRequests) reply.header('retry-after', String(error.retryAfterSeconds));
    if (error instanceof Problem) {
      return reply.code(error.status).type('application/problem+json').send(error.toBody());
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const location = (error as { validationContext?: string }).validationContext;
      const errors = error.validation.map((v) => ({
        field: fieldName(location, v.instancePath, v.params as Record<string, unknown>),
        message: v.message ?? 'is not valid',
      }));
      return reply
        .code(400)
        .type('application/problem+json')
        .send(new Problem(400, `The request is not valid: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`, errors).toBody());
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: { type: (error as Error).name, message: (error as Error).message, stack: (error as Error).stack } }, 'unhandled error');
      return reply.code(500).type('application/problem+json').send(new Problem(500, 'Something went wrong on our side; nothing was changed. Try again, and tell your administrator if it persists.').toBody());
    }
    // Fastify's own client errors (malformed JSON, body too large, rate limits…)
    return reply
      .code(status)
      .type('application/problem+json')
      .send(new Problem(status, (error as Error).message || 'The request could not be processed.').toBody());
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).type('application/problem+json').send(new Problem(404, `No route ${request.method} ${request.url.split('?')[0]}.`).toBody());
  });

  sendSecurityHeaders(app);
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Lethe API', version: '0.1.0', description: 'Contact-data lifecycle and privacy engine.' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'lethe_session' },
          token: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { token: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/api/')) await authResolver(ctx)(request);
  });

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await registerDomainRoutes(app, ctx);
  if (options.extend) await options.extend(app);
  return app;
}
