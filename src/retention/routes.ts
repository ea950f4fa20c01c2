import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { batchRoutes } from './batch-routes.ts';
import { ticketingRoutes } from './ticketing-routes.ts';

/** Retention's routes (mounted by src/http/routes.ts). */
export async function retentionRoutes(app: App, ctx: AppContext): Promise<void> {
  await ticketingRoutes(app, ctx);
  await batchRoutes(app, ctx);
}
