import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { Problem } from '../http/problem.ts';
import { escapeHtml } from '../mail/template.ts';
import { institutionBySlug } from '../lifecycle/self-service/profile-access.ts';
import { confirmSubjectAccessCode, requestSubjectAccessCode } from './subject-access.ts';
import { page, sendHtml } from './html-page.ts';
import { rateLimitRules } from '../security/rate-limit-rules.ts';
import { bodyEmail, limitRequests } from '../security/rate-limit-hook.ts';

/**
 * The right of access for the person themself, with no account: they give their address, get a
 * code there, enter it, and receive a one-time link to their copy (JSON + HTML) by email. Two
 * faces on the same two steps: a JSON API under /api/public (for the console's public pages and
 * integrations) and plain server-rendered forms at /exports/my-data/<institution> (a page that
 * works anywhere, like the download page). Neither ever says whether an address is known.
 */

const tags = ['self-service'];
const institutionParams = z.object({ institution: z.string().min(1).max(100).describe("the institution's slug") });
const codeBody = z.strictObject({ email: z.string().max(254).describe('the address to receive the code') });
const confirmBody = z.strictObject({
  requestId: z.string().min(1).max(100).describe('from the answer to the code request'),
  email: z.string().max(254).describe('the same address'),
  code: z.string().min(1).max(20).describe('the 6 digits from the email'),
});

function emailForm(action: string, error?: string): string {
  return (
    '<p>Enter your email address. If we hold data about it, we will send a code there; with that code you receive a one-time link to a copy of all your data.</p>' +
    (error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '') +
    `<form method="post" action="${escapeHtml(action)}"><label for="email">Email address</label><input id="email" name="email" type="email" autocomplete="email" required>` +
    '<p><button type="submit">Send me a code</button></p></form>'
  );
}

function codeForm(action: string, requestId: string, email: string, message: string, error?: string): string {
  return (
    `<p>${escapeHtml(message)}</p>` +
    (error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '') +
    `<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="requestId" value="${escapeHtml(requestId)}"><input type="hidden" name="email" value="${escapeHtml(email)}">` +
    '<label for="code">Code</label><input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required>' +
    '<p><button type="submit">Confirm</button></p></form>'
  );
}

/** The first message of a refusal, for the page (field errors carry the useful part). */
function problemText(error: unknown): string | null {
  if (!(error instanceof Problem) || error.status >= 500) return null;
  return error.errors?.length && error.status === 422 && error.errors[0].field === 'email' ? 'Enter a valid email address, like name@example.org.' : error.detail;
}

export async function subjectAccessPublicRoutes(app: App, ctx: AppContext): Promise<void> {
  const limits = rateLimitRules(ctx.config);
  const codeLimit = limitRequests(ctx, limits.subjectAccessCode, (request) => `${request.ip}\n${bodyEmail(request)}`, 'code requests');
  const confirmLimit = limitRequests(ctx, limits.subjectAccessConfirm, (request) => request.ip, 'codes entered');
  app.post(
    '/api/public/institutions/:institution/subject-access/code',
    {
      preHandler: codeLimit,
      schema: {
        tags,
        security: [],
        summary: 'Right of access, step 1: email a code to this address if Lethe holds data about it',
        description: 'Always answers 202 with the same message, whether or not the address is known (an erased or anonymised person is not). 422 when it is not an email address.',
        params: institutionParams,
        body: codeBody,
        response: { 202: z.object({ requestId: z.string(), detail: z.string() }) },
      },
    },
    async (request, reply) => {
      const institution = await institutionBySlug(ctx.db, request.params.institution);
      const { requestId, message } = await requestSubjectAccessCode(ctx, institution.id, request.body.email);
      return reply.code(202).send({ requestId, detail: message });
    },
  );

  app.post(
    '/api/public/institutions/:institution/subject-access/confirm',
    {
      preHandler: confirmLimit,
      schema: {
        tags,
        security: [],
        summary: 'Right of access, step 2: enter the code; the copy is produced and its one-time link emailed to the address',
        description: '422 when the code is wrong or expired (5 attempts, 15 minutes), with the same answer for an unknown address.',
        params: institutionParams,
        body: confirmBody,
        response: { 202: z.object({ detail: z.string() }) },
      },
    },
    async (request, reply) => {
      const institution = await institutionBySlug(ctx.db, request.params.institution);
      const { message } = await confirmSubjectAccessCode(ctx, institution.id, request.body);
      return reply.code(202).send({ detail: message });
    },
  );

  // The same two steps as plain HTML forms.
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    });
    const base = (slug: string) => `/exports/my-data/${encodeURIComponent(slug)}`;
    const field = (body: unknown, name: string) => String((body as Record<string, unknown> | undefined)?.[name] ?? '').slice(0, 254);
    const title = 'Get a copy of your data';

    async function institutionOr404(slug: string, reply: FastifyReply) {
      try {
        return await institutionBySlug(ctx.db, slug);
      } catch (error) {
        if (!(error instanceof Problem) || error.status !== 404) throw error;
        sendHtml(reply, 404, page('Page not found', '<p>There is no such site here. Check the address of the page.</p>'));
        return null;
      }
    }

    scope.get('/exports/my-data/:institution', { schema: { hide: true, params: institutionParams } }, async (request, reply) => {
      const { institution: slug } = request.params as { institution: string };
      const institution = await institutionOr404(slug, reply);
      if (!institution) return reply;
      return sendHtml(reply, 200, page(`${title} — ${institution.name}`, emailForm(base(slug))));
    });

    scope.post('/exports/my-data/:institution', { preHandler: codeLimit, schema: { hide: true, params: institutionParams } }, async (request, reply) => {
      const { institution: slug } = request.params as { institution: string };
      const institution = await institutionOr404(slug, reply);
      if (!institution) return reply;
      const email = field(request.body, 'email');
      try {
        const { requestId, message } = await requestSubjectAccessCode(ctx, institution.id, email);
        return sendHtml(reply, 200, page(title, codeForm(`${base(slug)}/confirm`, requestId, email, message)));
      } catch (error) {
        const text = problemText(error);
        if (text === null) throw error;
        return sendHtml(reply, 422, page(title, emailForm(base(slug), text)));
      }
    });

    scope.post('/exports/my-data/:institution/confirm', { preHandler: confirmLimit, schema: { hide: true, params: institutionParams } }, async (request, reply) => {
      const { institution: slug } = request.params as { institution: string };
      const institution = await institutionOr404(slug, reply);
      if (!institution) return reply;
      const input = { requestId: field(request.body, 'requestId'), email: field(request.body, 'email'), code: field(request.body, 'code') };
      try {
        const { message } = await confirmSubjectAccessCode(ctx, institution.id, input);
        return sendHtml(reply, 200, page('Your copy is on its way', `<p>${escapeHtml(message)}</p>`));
      } catch (error) {
        const text = problemText(error);
        if (text === null) throw error;
        const retry = `<p><a href="${escapeHtml(base(slug))}">Ask for a new code</a></p>`;
        return sendHtml(reply, 422, page(title, codeForm(`${base(slug)}/confirm`, input.requestId, input.email, 'Enter the code we emailed you.', text) + retry));
      }
    });
  });
}
