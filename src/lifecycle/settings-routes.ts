import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { recordAudit } from '../audit/audit-log.ts';
import { requireAuth, requirePermission, tenantOf } from '../access/auth.ts';
import { lifecycleSettingsBody, lifecycleSettingsSchema, readLifecycleSettings, writeLifecycleSettings } from './settings.ts';

export async function lifecycleSettingsRoutes(app: App, ctx: AppContext): Promise<void> {
  const tags = ['lifecycle'];
  app.get(
    '/api/lifecycle/settings',
    {
      preValidation: requirePermission(ctx, 'contacts.read'),
      schema: { tags, summary: "What the contact's own Delete Account does, and whether the suppression list is kept", response: { 200: lifecycleSettingsSchema } },
    },
    async (request) => readLifecycleSettings(ctx.db, tenantOf(request)),
  );
  app.patch(
    '/api/lifecycle/settings',
    {
      preValidation: requirePermission(ctx, 'retention.manage'),
      schema: { tags, summary: 'Change the lifecycle settings (audited)', body: lifecycleSettingsBody, response: { 200: lifecycleSettingsSchema } },
    },
    async (request) => {
      const institutionId = tenantOf(request);
      return ctx.db.transaction().execute(async (trx) => {
        const before = await readLifecycleSettings(trx, institutionId);
        const after = await writeLifecycleSettings(trx, institutionId, { ...before, ...request.body });
        await recordAudit(ctx, trx, { institutionId, actor: requireAuth(request).actor, action: 'lifecycle.settings', target: { type: 'institution', id: institutionId }, before, after });
        return after;
      });
    },
  );
}
