import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { recordAudit } from '../audit/audit-log.ts';
import { Problem } from '../http/problem.ts';
import { loadAuthUser, requireAuth, SESSION_COOKIE } from './auth.ts';
import { emailSchema } from './institutions.ts';
import { signIn } from './login.ts';
import { permissions } from './permissions.ts';
import { noContent, roleRef } from './route-schemas.ts';
import { csrfTokenFor } from './secret-tokens.ts';
import { rateLimitRules } from '../security/rate-limit-rules.ts';
import { bodyEmail, limitRequests } from '../security/rate-limit-hook.ts';
import { endSession } from './sessions.ts';
import { userById } from './users.ts';

const sessionView = z.object({
  user: z.object({
    id: z.string(),
    name: z.string(),
    email: z.string(),
    role: roleRef.nullable(),
    platformRole: z.enum(['support', 'csm']).nullable(),
    permissions: z.array(z.enum(permissions)),
    institutionId: z.string().nullable(),
    organizationId: z.string().nullable(),
  }),
  csrfToken: z.string().nullable().describe('send as X-CSRF-Token with every change made with the session cookie; null for API tokens'),
});
type SessionView = z.infer<typeof sessionView>;

async function describeSession(ctx: AppContext, userId: string, sessionToken: string | undefined): Promise<SessionView> {
  const { permissions: granted } = await loadAuthUser(ctx, userId);
  const user = await userById(ctx.db, userId);
  if (!user) throw new Problem(401, 'Your session has ended; sign in again.');
  return {
    user: {
      id: user.id,
      name: user.name,
      email: user.email,
      role: user.role,
      platformRole: user.platformRole,
      permissions: [...granted].sort(),
      institutionId: user.institutionId,
      organizationId: user.organizationId,
    },
    csrfToken: sessionToken ? csrfTokenFor(ctx.secrets.tokenKey, sessionToken) : null,
  };
}

function secureCookie(ctx: AppContext, request: FastifyRequest): boolean {
  return ctx.config.cookieSecure === 'true' || (ctx.config.cookieSecure === 'auto' && request.protocol === 'https');
}

export async function sessionRoutes(app: App, ctx: AppContext): Promise<void> {
  app.post(
    '/api/session',
    {
      // preHandler: the identity needs the parsed email, so guessing is limited per address and account in every process.
      preHandler: limitRequests(ctx, rateLimitRules(ctx.config).loginAttempts, (request) => `${request.ip}\n${bodyEmail(request)}`, 'sign-in attempts'),
      schema: {
        tags: ['access'],
        summary: 'Sign in with email and password; sets the lethe_session cookie',
        security: [],
        body: z.object({ email: emailSchema, password: z.string().min(1, 'must not be empty').max(1024) }),
        response: { 200: sessionView },
      },
    },
    async (request, reply) => {
      const { userId, session } = await signIn(ctx, request.body.email, request.body.password);
      reply.setCookie(SESSION_COOKIE, session.token, {
        httpOnly: true,
        sameSite: 'lax',
        path: '/',
        secure: secureCookie(ctx, request),
        expires: new Date(session.expiresAt),
      });
      return describeSession(ctx, userId, session.token);
    },
  );

  app.get(
    '/api/session',
    { schema: { tags: ['access'], summary: 'The signed-in user, permissions and CSRF token', response: { 200: sessionView } } },
    async (request) => {
      const auth = requireAuth(request);
      return describeSession(ctx, auth.user.id, auth.via === 'session' ? auth.sessionToken : undefined);
    },
  );

  app.delete(
    '/api/session',
    { schema: { tags: ['access'], summary: 'Sign out: ends the session and clears the cookie', response: noContent } },
    async (request, reply) => {
      const auth = request.auth;
      if (auth?.via === 'session' && auth.sessionToken) {
        await endSession(ctx, auth.sessionToken);
        await recordAudit(ctx, ctx.db, {
          institutionId: auth.user.institutionId,
          actor: auth.actor,
          action: 'session.end',
          target: { type: 'user', id: auth.user.id },
        });
      }
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send();
    },
  );
}
