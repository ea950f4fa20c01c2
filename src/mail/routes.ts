import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { requirePermission, tenantOf } from '../access/auth.ts';
import { outboxStatuses } from '../db/schema.ts';

const outboxItem = z.object({
  id: z.string(),
  contactId: z.string().nullable(),
  category: z.string(),
  template: z.string(),
  status: z.enum(outboxStatuses),
  to: z.string().nullable(),
  subject: z.string().nullable(),
  text: z.string().nullable(),
  messageId: z.string(),
  attempts: z.number(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
});

export async function mailRoutes(app: App, ctx: AppContext): Promise<void> {
  app.get(
    '/api/outbox',
    {
      preValidation: requirePermission(ctx, 'outbox.read'),
      schema: {
        tags: ['mail'],
        summary: 'The outgoing mail of this institution; with no SMTP server configured, every message is held here to read',
        querystring: z.object({
          status: z.enum(outboxStatuses).optional(),
          contactId: z.string().max(100).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
        response: { 200: z.object({ smtpConfigured: z.boolean(), items: z.array(outboxItem) }) },
      },
    },
    async (request) => {
      let q = ctx.db.selectFrom('outbox_messages').selectAll().where('institution_id', '=', tenantOf(request));
      if (request.query.status) q = q.where('status', '=', request.query.status);
      if (request.query.contactId) q = q.where('contact_id', '=', request.query.contactId);
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(request.query.limit).execute();
      return {
        smtpConfigured: Boolean(ctx.config.smtpUrl),
        items: rows.map((r) => ({
          id: r.id,
          contactId: r.contact_id,
          category: r.category,
          template: r.template,
          status: r.status,
          to: r.to_address,
          subject: r.subject,
          text: r.text_body,
          messageId: r.message_id,
          attempts: r.attempts,
          lastError: r.last_error,
          createdAt: r.created_at,
          sentAt: r.sent_at,
        })),
      };
    },
  );
}
