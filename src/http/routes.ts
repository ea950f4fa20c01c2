import type { AppContext } from '../context.ts';
import type { App } from './app.ts';
import { healthRoutes } from './health-routes.ts';
import { auditRoutes } from '../audit/routes.ts';

/** Every domain's routes, mounted under /api. A new domain adds one line here. */
export async function registerDomainRoutes(app: App, ctx: AppContext): Promise<void> {
  await healthRoutes(app, ctx);
  await auditRoutes(app, ctx);
}
