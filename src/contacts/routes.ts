import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { attributeRoutes } from './attribute-routes.ts';
import { contactRoutes } from './contact-routes.ts';
import { employerRoutes } from './employer-routes.ts';
import { relatedRoutes } from './related-routes.ts';

/** Contacts, their custom attributes, employers, notes/meetings/tasks and the directory. */
export async function contactDomainRoutes(app: App, ctx: AppContext): Promise<void> {
  await attributeRoutes(app, ctx);
  await employerRoutes(app, ctx);
  await contactRoutes(app, ctx);
  await relatedRoutes(app, ctx);
}
