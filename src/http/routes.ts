import type { AppContext } from '../context.ts';
import type { App } from './app.ts';
import { healthRoutes } from './health-routes.ts';
import { auditRoutes } from '../audit/routes.ts';
import { accessRoutes } from '../access/routes.ts';
import { jobRoutes } from '../jobs/routes.ts';
import { mailRoutes } from '../mail/routes.ts';
import { contactDomainRoutes } from '../contacts/routes.ts';

/** Every domain's routes, mounted under /api. A new domain adds one line here. */
export async function registerDomainRoutes(app: App, ctx: AppContext): Promise<void> {
  await healthRoutes(app, ctx);
  await auditRoutes(app, ctx);
  await accessRoutes(app, ctx);
  await jobRoutes(app, ctx);
  await mailRoutes(app, ctx);
  await contactDomainRoutes(app, ctx);
}
