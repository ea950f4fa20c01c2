import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { recordActivity } from '../activity/events.ts';
import { updateContactIn } from '../contacts/contacts.ts';
import { systemViewer } from '../contacts/visibility.ts';
import { Problem } from '../http/problem.ts';
import { selfActor } from '../lifecycle/self-service/profile-access.ts';
import { verifyLink, type LinkClaims, type LinkKind } from './links.ts';
import { page, type PageContent } from './page-html.ts';
import { rateLimitRules } from '../security/rate-limit-rules.ts';
import { limitRequests } from '../security/rate-limit-hook.ts';

const invalidLink: PageContent = {
  title: 'This link is not valid',
  paragraphs: ['The link may have been cut off or changed when it was copied. Open it again from the email, or copy the whole address.'],
};
const expiredLink: PageContent = { title: 'This link has expired', paragraphs: ['Links in our emails work for a limited time. If you still want to act on it, contact us and we will help.'] };
const goneContact: PageContent = { title: 'We no longer hold this profile', paragraphs: ['There is nothing to do here: the profile this link was made for no longer exists.'] };

type Contact = { id: string; institution_id: string; organization_id: string | null; opt_in_status: string; institution: string };

/**
 * The contact-facing pages behind links in workflow emails, served as plain HTML (no script):
 * a tracked link (records the click, then redirects), the general opt-in page (seed 000: one
 * checkbox) and the consent-renewal page (seed 004). Consent is recorded only by the form's POST,
 * so a mail scanner that fetches every link cannot opt anyone in. A tampered or expired token gets
 * a page that says so, never an error dump.
 */
export async function publicWorkflowPages(app: App, ctx: AppContext): Promise<void> {
  await app.register(async (scope: FastifyInstance) => {
    // Browsers post forms urlencoded; the parser is registered only in this scope.
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    // Tokens carry their claims (and a tracked link its target), longer than a route parameter may be: hence `*`.
    const limited = limitRequests(ctx, rateLimitRules(ctx.config).workflowPages, (request) => request.ip, 'page views');
    const send = (reply: FastifyReply, status: number, content: PageContent) =>
      reply
        .code(status)
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(page(content));

    /** The link's claims and its contact, or the page to answer with. */
    const open = async (token: string, kind: LinkKind): Promise<{ claims: LinkClaims; contact: Contact | null } | { status: number; content: PageContent }> => {
      const check = verifyLink(ctx, token, kind);
      if (!check.ok) return check.reason === 'expired' ? { status: 410, content: expiredLink } : { status: 400, content: invalidLink };
      const contact = await ctx.db
        .selectFrom('contacts')
        .innerJoin('institutions', 'institutions.id', 'contacts.institution_id')
        .select(['contacts.id', 'contacts.institution_id', 'contacts.organization_id', 'contacts.opt_in_status', 'institutions.name as institution'])
        .where('contacts.id', '=', check.claims.contactId)
        .where('contacts.institution_id', '=', check.claims.institutionId)
        .executeTakeFirst();
      return { claims: check.claims, contact: contact ?? null };
    };

    const recordClick = (contact: Contact, claims: LinkClaims, kind: string) =>
      recordActivity(ctx.db, {
        institutionId: contact.institution_id,
        contactId: contact.id,
        organizationId: contact.organization_id,
        actorUserId: null,
        type: 'link.clicked',
        occurredAt: ctx.clock.now().toISOString(),
        data: { kind, workflowId: claims.workflowId },
      });

    scope.get<{ Params: { '*': string } }>('/p/l/*', { preHandler: limited, schema: { hide: true } }, async (request, reply) => {
      const opened = await open(request.params['*'], 'track');
      if ('status' in opened) return send(reply, opened.status, opened.content);
      if (opened.contact) await recordClick(opened.contact, opened.claims, 'tracked');
      return reply.header('referrer-policy', 'no-referrer').redirect(opened.claims.url!, 302);
    });

    const consentForm = (contact: Contact, action: string, intro: string[], error?: string): PageContent => ({
      title: contact.opt_in_status === 'opted_in' ? `You are subscribed to ${contact.institution}` : `Stay in touch with ${contact.institution}`,
      paragraphs: contact.opt_in_status === 'opted_in' ? ['Thank you: your consent is on record. You can close this page.'] : intro,
      form: contact.opt_in_status === 'opted_in' ? undefined : { action, checkbox: `I agree that ${contact.institution} keeps my profile and contacts me.`, button: 'Confirm', error },
    });

    const pages = [
      {
        kind: 'opt_in' as const,
        path: '/p/opt-in/',
        intro: (c: Contact) => [`${c.institution} would like to keep your profile and stay in touch. Tick the box and confirm if you agree.`],
      },
      {
        kind: 'renew' as const,
        path: '/p/renew/',
        intro: (c: Contact) => [
          'Thank you for your continued interest!',
          `Data privacy is of high concern to us: ${c.institution} will only contact you if you accept to, and only with relevant information.`,
        ],
      },
    ];
    // Unsubscribe (every marketing email's footer and List-Unsubscribe header). A GET only shows the
    // button, so a mail scanner fetching links unsubscribes nobody; the POST is also RFC 8058's
    // one-click request (body "List-Unsubscribe=One-Click"), which mail clients send themselves.
    const unsubscribed = (c: Contact): PageContent => ({
      title: 'You are unsubscribed',
      paragraphs: [`${c.institution} will send you no more newsletters or campaigns. Messages you ask for yourself (such as sign-in codes) still reach you.`],
    });
    scope.get<{ Params: { '*': string } }>('/p/unsubscribe/*', { preHandler: limited, schema: { hide: true } }, async (request, reply) => {
      const opened = await open(request.params['*'], 'unsubscribe');
      if ('status' in opened) return send(reply, opened.status, opened.content);
      if (!opened.contact) return send(reply, 410, goneContact);
      if (opened.contact.opt_in_status === 'opted_out') return send(reply, 200, unsubscribed(opened.contact));
      return send(reply, 200, {
        title: `Unsubscribe from ${opened.contact.institution}`,
        paragraphs: [`Confirm, and ${opened.contact.institution} will stop sending you newsletters and campaigns.`],
        form: { action: `/p/unsubscribe/${request.params['*']}`, button: 'Unsubscribe' },
      });
    });
    scope.post<{ Params: { '*': string } }>('/p/unsubscribe/*', { preHandler: limited, schema: { hide: true } }, async (request, reply) => {
      const opened = await open(request.params['*'], 'unsubscribe');
      if ('status' in opened) return send(reply, opened.status, opened.content);
      const contact = opened.contact;
      if (!contact) return send(reply, 410, goneContact);
      if (contact.opt_in_status !== 'opted_out') {
        try {
          await ctx.db.transaction().execute((trx) =>
            updateContactIn(ctx, trx, contact.institution_id, { viewer: systemViewer, actor: selfActor(contact.id), organizationId: null, viaToken: false }, contact.id, { optInStatus: 'opted_out' }, {
              action: 'contact.consent',
              auditMeta: { via: 'unsubscribe_link', workflowId: opened.claims.workflowId },
            }),
          );
        } catch (error) {
          if (!(error instanceof Problem) || error.status >= 500) throw error;
          return send(reply, 409, { title: 'We could not unsubscribe you', paragraphs: ['Your profile cannot be changed right now. Please contact us.'] });
        }
      }
      return send(reply, 200, unsubscribed(contact));
    });

    for (const p of pages) {
      scope.get<{ Params: { '*': string } }>(`${p.path}*`, { preHandler: limited, schema: { hide: true } }, async (request, reply) => {
        const opened = await open(request.params['*'], p.kind);
        if ('status' in opened) return send(reply, opened.status, opened.content);
        if (!opened.contact) return send(reply, 410, goneContact);
        // Seed 004: the click on the renewal link is activity in itself (recency), whatever follows.
        if (p.kind === 'renew') await recordClick(opened.contact, opened.claims, 'consent_renewal');
        return send(reply, 200, consentForm(opened.contact, `${p.path}${request.params['*']}`, p.intro(opened.contact)));
      });

      scope.post<{ Params: { '*': string }; Body: Record<string, string> | undefined }>(`${p.path}*`, { preHandler: limited, schema: { hide: true } }, async (request, reply) => {
        const opened = await open(request.params['*'], p.kind);
        if ('status' in opened) return send(reply, opened.status, opened.content);
        const contact = opened.contact;
        if (!contact) return send(reply, 410, goneContact);
        const action = `${p.path}${request.params['*']}`;
        if (request.body?.consent !== 'yes') return send(reply, 400, consentForm(contact, action, p.intro(contact), 'Tick the box to confirm, or simply close this page.'));
        try {
          await ctx.db.transaction().execute((trx) =>
            updateContactIn(ctx, trx, contact.institution_id, { viewer: systemViewer, actor: selfActor(contact.id), organizationId: null, viaToken: false }, contact.id, { optInStatus: 'opted_in' }, {
              action: 'contact.consent',
              auditMeta: { via: p.kind === 'renew' ? 'consent_renewal_page' : 'opt_in_page', workflowId: opened.claims.workflowId },
            }),
          );
        } catch (error) {
          if (!(error instanceof Problem) || error.status >= 500) throw error;
          return send(reply, 409, { title: 'We could not record your consent', paragraphs: ['Your profile cannot be changed right now. Please contact us.'] });
        }
        return send(reply, 200, { title: 'Thank you', paragraphs: [`Your consent is recorded: ${contact.institution} will keep your profile and stay in touch.`, 'You can close this page.'] });
      });
    }
  });
}
