import type { AppContext } from '../context.ts';
import type { App } from './app.ts';
import { healthRoutes } from './health-routes.ts';
import { auditRoutes } from '../audit/routes.ts';
import { accessRoutes } from '../access/routes.ts';
import { jobRoutes } from '../jobs/routes.ts';
import { mailRoutes } from '../mail/routes.ts';
import { contactDomainRoutes } from '../contacts/routes.ts';
import { importRoutes } from '../intake/import/import-routes.ts';
import { mergeRoutes } from '../intake/merge/merge-routes.ts';
import { possibleDuplicateRoutes } from '../intake/possible-duplicates/routes.ts';
import { intakeRoutes } from '../intake/routes.ts';
import { consoleRoutes } from './console-routes.ts';
import { projectRoutes } from '../projects/routes.ts';
import { sequenceRoutes } from '../sequences/routes.ts';
import { exportRoutes } from '../exports/routes.ts';
import { lifecycleDomainRoutes } from '../lifecycle/routes.ts';
import { retentionRoutes } from '../retention/routes.ts';
import { workflowRoutes } from '../workflows/routes.ts';

/** Every domain's routes, mounted under /api. A new domain adds one line here. */
export async function registerDomainRoutes(app: App, ctx: AppContext): Promise<void> {
  await healthRoutes(app, ctx);
  await auditRoutes(app, ctx);
  await accessRoutes(app, ctx);
  await jobRoutes(app, ctx);
  await mailRoutes(app, ctx);
  await contactDomainRoutes(app, ctx);
  await importRoutes(app, ctx);
  await mergeRoutes(app, ctx);
  await possibleDuplicateRoutes(app, ctx);
  await intakeRoutes(app, ctx);
  await projectRoutes(app, ctx);
  await sequenceRoutes(app, ctx);
  await exportRoutes(app, ctx);
  await lifecycleDomainRoutes(app, ctx);
  await retentionRoutes(app, ctx);
  await workflowRoutes(app, ctx);
  await consoleRoutes(app, ctx);
}
