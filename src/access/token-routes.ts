import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { forbidden, notFound } from '../http/problem.ts';
import { createTokenSchema, getApiToken, issueApiToken, listApiTokens, revokeApiToken, tokenView } from './api-tokens.ts';
import { requireAuth, requirePermission, tenantOf } from './auth.ts';
import { idParams, noContent, pageQuery } from './route-schemas.ts';

/** Everyone manages their own tokens; someone else's need tokens.manage. */
function mayManageTokensOf(request: FastifyRequest, userId: string): boolean {
  const auth = requireAuth(request);
  return userId === auth.user.id || auth.permissions.has('tokens.manage');
}

export async function tokenRoutes(app: App, ctx: AppContext): Promise<void> {
  const signedIn = requirePermission(ctx);
  const tags = ['access'];

  app.post(
    '/api/tokens',
    {
      preValidation: signedIn,
      schema: {
        tags,
        summary: 'Create an API token; the secret is in this response only',
        body: createTokenSchema.extend({ userId: z.string().max(100).optional().describe('whose token; yourself when left out (others need tokens.manage)') }),
        response: { 201: tokenView.extend({ token: z.string().describe('the secret: shown once, store it now') }) },
      },
    },
    // No Idempotency-Key replay here: replaying means storing the secret in clear for a day.
    async (request, reply) => {
      const auth = requireAuth(request);
      const institutionId = tenantOf(request);
      if (auth.user.platformRole) throw forbidden('Platform users sign in with a session; API tokens belong to tenant users.');
      const userId = request.body.userId ?? auth.user.id;
      if (!mayManageTokensOf(request, userId)) throw forbidden("Your role does not allow managing other users' tokens (needs tokens.manage).");
      const issued = await issueApiToken(ctx, { institutionId, userId, name: request.body.name }, auth.actor);
      reply.code(201);
      return { ...(await getApiToken(ctx, institutionId, issued.id)), token: issued.token };
    },
  );

  app.get(
    '/api/tokens',
    {
      preValidation: signedIn,
      schema: {
        tags,
        summary: 'List API tokens (your own, or anyone\'s with tokens.manage); never the secret',
        querystring: z.object({ ...pageQuery, userId: z.string().max(100).optional() }),
        response: { 200: z.object({ items: z.array(tokenView), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      const manage = auth.permissions.has('tokens.manage');
      const userId = request.query.userId ?? (manage ? undefined : auth.user.id);
      if (userId && !mayManageTokensOf(request, userId)) throw forbidden("Your role does not allow listing other users' tokens (needs tokens.manage).");
      return listApiTokens(ctx, tenantOf(request), { ...request.query, userId });
    },
  );

  app.delete(
    '/api/tokens/:id',
    { preValidation: signedIn, schema: { tags, summary: 'Revoke an API token (it stops working at once)', params: idParams, response: noContent } },
    async (request, reply) => {
      const institutionId = tenantOf(request);
      const token = await getApiToken(ctx, institutionId, request.params.id);
      // Someone else's token is reported as missing, not forbidden, so ids cannot be probed.
      if (!mayManageTokensOf(request, token.userId)) throw notFound('API token');
      await revokeApiToken(ctx, institutionId, token.id, requireAuth(request).actor);
      return reply.code(204).send();
    },
  );
}
