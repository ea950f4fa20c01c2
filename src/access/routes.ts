import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { meRoutes } from './me-routes.ts';
import { organizationRoutes } from './organization-routes.ts';
import { platformRoutes } from './platform-routes.ts';
import { roleRoutes } from './role-routes.ts';
import { sessionRoutes } from './session-routes.ts';
import { tokenRoutes } from './token-routes.ts';
import { userRoutes } from './user-routes.ts';

/** Sign-in, users, roles, tokens, organizations and platform access. */
export async function accessRoutes(app: App, ctx: AppContext): Promise<void> {
  await sessionRoutes(app, ctx);
  await meRoutes(app, ctx);
  await userRoutes(app, ctx);
  await roleRoutes(app, ctx);
  await tokenRoutes(app, ctx);
  await organizationRoutes(app, ctx);
  await platformRoutes(app, ctx);
}
