import { z } from 'zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import type { App } from '../../http/app.ts';
import { emailSchema } from '../../access/institutions.ts';
import { noContent } from '../../access/route-schemas.ts';
import { profileOf } from '../../contacts/contact-profile.ts';
import { systemViewer } from '../../contacts/visibility.ts';
import { notFound } from '../../http/problem.ts';
import { applyAction, prepareAction, type Acting, type ActionInput } from '../actions.ts';
import { readLifecycleSettings } from '../settings.ts';
import { rateLimitRules } from '../../security/rate-limit-rules.ts';
import { bodyEmail, limitRequests } from '../../security/rate-limit-hook.ts';
import { completeErasure } from '../storage.ts';
import { CODE_SENT, contactOfSession, endProfileSession, openProfileSession, openProfileSessionByLink, requestProfileCode, selfActor, type IssuedProfileSession } from './profile-access.ts';

export const CONTACT_SESSION_COOKIE = 'lethe_contact';
export const CONTACT_SESSION_HEADER = 'x-lethe-contact-session';

const institutionParams = z.object({ institution: z.string().min(1).max(100).describe("the institution's slug") });

const ownProfileView = z.object({
  id: z.string(),
  firstName: z.string(),
  lastName: z.string(),
  email: z.string().nullable(),
  mobilePhone: z.string().nullable(),
  employer: z.string().nullable(),
  optInStatus: z.string(),
  authorizations: z.record(z.string(), z.object({ granted: z.boolean(), updatedAt: z.string() })),
  createdAt: z.string(),
  deleteAccount: z.enum(['soft', 'expunge']).describe('what "Delete Account" does here: soft (staff can restore) or expunge (permanent, with a confirmation email)'),
});

function sessionToken(request: FastifyRequest): string | undefined {
  const header = request.headers[CONTACT_SESSION_HEADER];
  return (typeof header === 'string' ? header : undefined) ?? request.cookies?.[CONTACT_SESSION_COOKIE];
}

/**
 * The contact's own pages (seed 000): ask for a one-time code by email, open a short-lived
 * profile session with it (or with the magic link in the same email), see the profile, and
 * "Delete Account". No staff credentials here; the session travels in a SameSite=Strict cookie
 * or the X-Lethe-Contact-Session header.
 */
export async function publicProfileRoutes(app: App, ctx: AppContext): Promise<void> {
  const tags = ['self-service'];
  const sessionOpened = (request: FastifyRequest, reply: FastifyReply, issued: IssuedProfileSession) => {
    reply.setCookie(CONTACT_SESSION_COOKIE, issued.token, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/api/public/',
      secure: ctx.config.cookieSecure === 'true' || (ctx.config.cookieSecure === 'auto' && request.protocol === 'https'),
      expires: new Date(issued.expiresAt),
    });
    return issued;
  };
  // Counted in the database, so the limits hold across processes; preHandler where the identity needs the parsed email.
  const limits = rateLimitRules(ctx.config);
  const perAddressAndEmail = (request: FastifyRequest) => `${request.ip}\n${bodyEmail(request)}`;

  app.post(
    '/api/public/institutions/:institution/profile/code',
    {
      preHandler: limitRequests(ctx, limits.profileCodeRequest, perAddressAndEmail, 'code requests'),
      schema: {
        tags,
        security: [],
        summary: 'Email a one-time code that opens the profile with this address',
        description: 'Always answers 202 with the same message, whether or not the address has a profile.',
        params: institutionParams,
        body: z.strictObject({ email: emailSchema }),
        response: { 202: z.object({ detail: z.string() }) },
      },
    },
    async (request, reply) => {
      await requestProfileCode(ctx, request.params.institution, request.body.email);
      return reply.code(202).send({ detail: CODE_SENT });
    },
  );

  app.post(
    '/api/public/institutions/:institution/profile/session',
    {
      preHandler: limitRequests(ctx, limits.profileCodeCheck, perAddressAndEmail, 'codes entered'),
      schema: {
        tags,
        security: [],
        summary: 'Open a short-lived profile session with the emailed code',
        params: institutionParams,
        body: z.strictObject({ email: emailSchema, code: z.string().min(1).max(20) }),
        response: { 200: z.object({ token: z.string(), expiresAt: z.string() }) },
      },
    },
    async (request, reply) => sessionOpened(request, reply, await openProfileSession(ctx, request.params.institution, request.body.email, request.body.code)),
  );

  app.post(
    '/api/public/institutions/:institution/profile/link',
    {
      onRequest: limitRequests(ctx, limits.profileLink, (request) => request.ip, 'links opened'),
      schema: {
        tags,
        security: [],
        summary: 'Open a short-lived profile session with the magic link of the code email (instead of typing the code)',
        description:
          'The email links to `<LETHE_PUBLIC_URL>/profile/<institution>#link=<token>`; that page posts the token here. POST, never GET, so a mail scanner following the link cannot use it up. The link works once and expires with its code.',
        params: institutionParams,
        body: z.strictObject({ token: z.string().min(1).max(200) }),
        response: { 200: z.object({ token: z.string(), expiresAt: z.string() }) },
      },
    },
    async (request, reply) => sessionOpened(request, reply, await openProfileSessionByLink(ctx, request.params.institution, request.body.token)),
  );

  app.get(
    '/api/public/institutions/:institution/profile',
    { schema: { tags, security: [], summary: 'The signed-in contact’s own profile', params: institutionParams, response: { 200: ownProfileView } } },
    async (request) => {
      const { institutionId, contactId } = await contactOfSession(ctx, request.params.institution, sessionToken(request));
      const row = await ctx.db.selectFrom('contacts').selectAll().where('id', '=', contactId).executeTakeFirst();
      if (!row) throw notFound('Profile');
      const profile = await profileOf(ctx.db, institutionId, row);
      const settings = await readLifecycleSettings(ctx.db, institutionId);
      return {
        id: profile.id,
        firstName: profile.firstName,
        lastName: profile.lastName,
        email: profile.email,
        mobilePhone: profile.mobilePhone,
        employer: profile.employer?.name ?? null,
        optInStatus: profile.optInStatus,
        authorizations: profile.authorizations,
        createdAt: profile.createdAt,
        deleteAccount: settings.selfServiceDelete,
      };
    },
  );

  app.delete(
    '/api/public/institutions/:institution/profile',
    {
      schema: {
        tags,
        security: [],
        summary: 'Delete Account: soft-deletes the profile, or expunges it (with a confirmation email) where the institution chose so',
        params: institutionParams,
        response: { 200: z.object({ outcome: z.enum(['disabled', 'expunged']), confirmationEmail: z.boolean() }) },
      },
    },
    async (request, reply) => {
      const token = sessionToken(request);
      const { institutionId, contactId } = await contactOfSession(ctx, request.params.institution, token);
      const settings = await readLifecycleSettings(ctx.db, institutionId);
      const acting: Acting = { viewer: systemViewer, actor: selfActor(contactId), via: 'self_service' };
      const input: ActionInput = settings.selfServiceDelete === 'expunge' ? { action: 'expunge', reason: 'contact_request', notify: true } : { action: 'disable' };
      const prepared = await prepareAction(ctx, institutionId, acting.actor, input);
      const { erasure } = await ctx.db.transaction().execute((trx) => applyAction(ctx, trx, institutionId, acting, [contactId], input, prepared));
      if (erasure) await completeErasure(ctx, erasure.tables);
      await endProfileSession(ctx, token!);
      reply.clearCookie(CONTACT_SESSION_COOKIE, { path: '/api/public/' });
      return { outcome: input.action === 'expunge' ? ('expunged' as const) : ('disabled' as const), confirmationEmail: (erasure?.confirmations ?? 0) > 0 };
    },
  );

  app.delete(
    '/api/public/institutions/:institution/profile/session',
    { schema: { tags, security: [], summary: 'Close the profile session', params: institutionParams, response: noContent } },
    async (request, reply) => {
      const token = sessionToken(request);
      if (token) await endProfileSession(ctx, token);
      reply.clearCookie(CONTACT_SESSION_COOKIE, { path: '/api/public/' });
      return reply.code(204).send();
    },
  );
}
