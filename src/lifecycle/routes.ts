import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { webhookRoutes } from '../webhooks/routes.ts';
import { bulkRoutes } from './bulk/bulk-routes.ts';
import { contactActionRoutes } from './contact-action-routes.ts';
import { publicProfileRoutes } from './self-service/public-routes.ts';
import { lifecycleSettingsRoutes } from './settings-routes.ts';

/** Lifecycle actions, bulk jobs, settings, the contact's self-service pages and the erasure webhooks they announce. */
export async function lifecycleDomainRoutes(app: App, ctx: AppContext): Promise<void> {
  await bulkRoutes(app, ctx);
  await contactActionRoutes(app, ctx);
  await lifecycleSettingsRoutes(app, ctx);
  await publicProfileRoutes(app, ctx);
  await webhookRoutes(app, ctx);
}
