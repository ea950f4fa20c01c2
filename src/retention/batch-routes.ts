import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { recordAudit } from '../audit/audit-log.ts';
import { requireAuth, requirePermission, tenantOf } from '../access/auth.ts';
import { forbidden, notFound } from '../http/problem.ts';
import { reportCsv } from './inactive-report.ts';
import { getRun, listRuns, runView, startInactiveRun } from './inactive-runs.ts';
import { scheduleInactiveBatch } from './schedule.ts';
import { readRetentionSettings, retentionSettingsBody, retentionSettingsSchema, writeRetentionSettings } from './settings.ts';
import { readSupportHistory, supportEntryView } from './support-history.ts';
import { consentRenewalBody, enrollStaleContacts } from './consent-renewal.ts';
import { callerOf } from '../contacts/caller.ts';

const idParams = z.object({ id: z.string().min(1).max(100) });

/** The inactive-contact batch: settings, runs and their reports, and support's recovery of anonymised contacts. */
export async function batchRoutes(app: App, ctx: AppContext): Promise<void> {
  const tags = ['retention'];
  const canManage = requirePermission(ctx, 'retention.manage');

  app.get(
    '/api/retention/settings',
    { preValidation: canManage, schema: { tags, summary: 'Inactivity period, simulation mode, schedule and log retention', response: { 200: retentionSettingsSchema } } },
    async (request) => readRetentionSettings(ctx.db, tenantOf(request)),
  );
  app.patch(
    '/api/retention/settings',
    { preValidation: canManage, schema: { tags, summary: 'Change the retention settings (audited); a schedule makes the worker run the batch', body: retentionSettingsBody, response: { 200: retentionSettingsSchema } } },
    async (request) => {
      const institutionId = tenantOf(request);
      return ctx.db.transaction().execute(async (trx) => {
        const before = await readRetentionSettings(trx, institutionId);
        const after = await writeRetentionSettings(trx, institutionId, { ...before, ...request.body });
        if (after.schedule !== before.schedule) await scheduleInactiveBatch(trx, institutionId, after.schedule, ctx.clock.now());
        await recordAudit(ctx, trx, { institutionId, actor: requireAuth(request).actor, action: 'retention.settings', target: { type: 'institution', id: institutionId }, before, after });
        return after;
      });
    },
  );

  app.post(
    '/api/retention/runs',
    {
      preValidation: canManage,
      schema: {
        tags,
        summary: 'Run "Deletion/anonymisation of inactive contacts" (a simulation unless execute is true or the settings say otherwise)',
        description: 'Queues the batch; its report is on the run once the worker has taken it. 409 while another run of the batch holds the lock.',
        body: z.strictObject({
          months: z.number().int().min(1, 'must be at least 1 month').max(1200).optional().describe('inactivity period; default the setting (36)'),
          execute: z.boolean().optional().describe('true: delete and anonymise for real; default the setting (simulation)'),
        }),
        response: { 202: runView },
      },
    },
    async (request, reply) => reply.code(202).send(await startInactiveRun(ctx, tenantOf(request), { months: request.body.months, execute: request.body.execute, actor: requireAuth(request).actor })),
  );
  app.get(
    '/api/retention/runs',
    { preValidation: canManage, schema: { tags, summary: 'Runs of the batch, newest first, with their reports', response: { 200: z.object({ items: z.array(runView) }) } } },
    async (request) => ({ items: await listRuns(ctx.db, tenantOf(request)) }),
  );
  app.get('/api/retention/runs/:id', { preValidation: canManage, schema: { tags, summary: 'One run and its report', params: idParams, response: { 200: runView } } }, async (request) => {
    const run = await getRun(ctx.db, tenantOf(request), request.params.id);
    if (!run) throw notFound('Run');
    return run;
  });
  app.get(
    '/api/retention/runs/:id/report.csv',
    { preValidation: canManage, schema: { tags, summary: "A run's report as CSV (ids, counts and dates; no names)", params: idParams } },
    async (request, reply) => {
      const run = await getRun(ctx.db, tenantOf(request), request.params.id);
      if (!run) throw notFound('Run');
      if (!run.report) throw notFound('Report (the run has not been processed yet)');
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="inactive-contacts-${run.mode}-${run.asOf.slice(0, 10)}.csv"`)
        .send(reportCsv(run, run.report));
    },
  );

  app.post(
    '/api/retention/consent-renewal',
    {
      preValidation: requirePermission(ctx, 'retention.manage', 'workflows.manage'),
      schema: {
        tags,
        summary: 'Enroll the contacts whose recency is before a date in a consent-renewal workflow (seed 004)',
        description: 'Create the workflow first, e.g. POST /api/workflow-templates/consent_renewal. The click on its link counts as activity.',
        body: consentRenewalBody,
        response: { 200: z.object({ matched: z.number(), enrolled: z.number() }) },
      },
    },
    async (request) => enrollStaleContacts(ctx, tenantOf(request), callerOf(request).viewer, request.body),
  );

  app.get(
    '/api/retention/support/contacts/:id/history',
    {
      preValidation: requirePermission(ctx, 'audit.read'),
      schema: { tags, summary: 'Platform support only: recover an anonymised contact from the audit log during the log-retention period (audited)', params: idParams, response: { 200: z.object({ items: z.array(supportEntryView) }) } },
    },
    async (request) => {
      const auth = requireAuth(request);
      if (auth.user.platformRole !== 'support') throw forbidden('Only platform support may recover an anonymised contact.');
      return { items: await readSupportHistory(ctx, tenantOf(request), request.params.id, auth.actor) };
    },
  );
}
