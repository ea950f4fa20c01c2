import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { forbidden } from '../http/problem.ts';
import { requireAuth } from './auth.ts';
import { updateAccountSchema, updateOwnAccount } from './account.ts';
import { permissions } from './permissions.ts';
import { userView } from './route-schemas.ts';
import { userById } from './users.ts';
import { rateLimitRules } from '../security/rate-limit-rules.ts';
import { limitRequests } from '../security/rate-limit-hook.ts';

const meView = userView.extend({ permissions: z.array(z.enum(permissions)) });

/** Tenant users need account.self; platform users always manage their own account, with no tenant named. */
async function requireAccountSelf(request: FastifyRequest): Promise<void> {
  const auth = requireAuth(request);
  if (!auth.user.platformRole && !auth.permissions.has('account.self')) {
    throw forbidden('Your role does not allow this action (needs account.self).');
  }
}

export async function meRoutes(app: App, ctx: AppContext): Promise<void> {
  const tags = ['access'];
  const describeMe = async (request: FastifyRequest) => {
    const auth = requireAuth(request);
    const user = await userById(ctx.db, auth.user.id);
    return { ...user!, permissions: [...auth.permissions].sort() };
  };

  app.get(
    '/api/me',
    { preValidation: requireAccountSelf, schema: { tags, summary: 'Your own account', response: { 200: meView } } },
    async (request) => describeMe(request),
  );

  app.patch(
    '/api/me',
    {
      preValidation: requireAccountSelf,
      // A session holder could otherwise guess the current password here at full speed.
      preHandler: limitRequests(ctx, rateLimitRules(ctx.config).accountChange, (request) => requireAuth(request).user.id, 'account changes'),
      schema: { tags, summary: 'Change your name or password (the current password is required)', body: updateAccountSchema, response: { 200: meView } },
    },
    async (request) => {
      const auth = requireAuth(request);
      await updateOwnAccount(ctx, auth.user.id, request.body, auth.actor, auth.via === 'session' ? auth.sessionToken : undefined);
      return describeMe(request);
    },
  );
}
