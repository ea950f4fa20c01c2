import { z } from 'zod';
import type { AppContext, Db } from '../context.ts';
import { workflowEnrollmentStates } from '../db/schema.ts';
import type { Viewer } from '../contacts/visibility.ts';
import { selectionQuery, type BulkFilter } from '../lifecycle/bulk/bulk-select.ts';
import { conflict, notFound } from '../http/problem.ts';
import { insertEnrollments } from './triggers.ts';

export const stepRunView = z.object({
  stepId: z.string(),
  stepType: z.string(),
  attempt: z.number(),
  outcome: z.string().describe('done, retry, failed or ended'),
  detail: z.string().nullable(),
  ranAt: z.string(),
  email: z
    .object({
      status: z.string().describe('pending, sending, sent, held (no SMTP configured), refused or failed'),
      attempts: z.number(),
      lastError: z.string().nullable().describe('why the last delivery attempt failed, or why it was refused'),
      sentAt: z.string().nullable(),
    })
    .nullable()
    .optional()
    .describe('for a send-email step: what became of the message it queued'),
});

export const enrollmentView = z.object({
  id: z.string(),
  workflowId: z.string(),
  workflowName: z.string(),
  version: z.number().describe('the version this run follows to its end, whatever edits come later'),
  contactId: z.string().nullable().describe('null once the contact is erased'),
  state: z.enum(workflowEnrollmentStates),
  stepId: z.string().nullable().describe('the step that runs next'),
  nextRunAt: z.string().nullable(),
  attempts: z.number(),
  trigger: z.string(),
  reason: z.string().nullable().describe('why it failed or ended, or why the current step is being retried'),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  steps: z.array(stepRunView).optional(),
});
export type EnrollmentView = z.infer<typeof enrollmentView>;

/**
 * Manual enrollment of a filtered set (the directory's filters, as bulk actions take them). Contacts
 * already running in the workflow are skipped; the answer says how many matched and how many
 * were enrolled.
 */
export async function enrollFiltered(ctx: AppContext, institutionId: string, viewer: Viewer, workflowId: string, filter: BulkFilter): Promise<{ matched: number; enrolled: number }> {
  const w = await ctx.db.selectFrom('workflows').select(['id', 'status', 'current_version']).where('institution_id', '=', institutionId).where('id', '=', workflowId).executeTakeFirst();
  if (!w) throw notFound('Workflow');
  if (w.status !== 'active') throw conflict('The workflow is paused; resume it before enrolling contacts.', [{ field: 'workflowId', message: 'is paused' }]);
  const q = await selectionQuery(ctx, institutionId, viewer, filter);
  const ids = (await q.execute()).map((r) => r.id);
  const at = ctx.clock.now().toISOString();
  let enrolled = 0;
  for (let i = 0; i < ids.length; i += 1000) {
    const part = ids.slice(i, i + 1000);
    enrolled += await ctx.db.transaction().execute((trx) =>
      insertEnrollments(trx, part.map((contactId) => ({ institutionId, workflowId, version: w.current_version, contactId, trigger: 'manual', at }))),
    );
  }
  return { matched: ids.length, enrolled };
}

type Row = {
  id: string;
  workflow_id: string;
  name: string;
  version: number;
  contact_id: string | null;
  state: EnrollmentView['state'];
  step_id: string | null;
  next_run_at: string | null;
  attempts: number;
  trigger: string;
  reason: string | null;
  created_at: string;
  finished_at: string | null;
};

const viewOf = (r: Row): EnrollmentView => ({
  id: r.id,
  workflowId: r.workflow_id,
  workflowName: r.name,
  version: r.version,
  contactId: r.contact_id,
  state: r.state,
  stepId: r.step_id,
  nextRunAt: r.next_run_at,
  attempts: r.attempts,
  trigger: r.trigger,
  reason: r.reason,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
});

function enrollmentQuery(db: Db, institutionId: string) {
  return db
    .selectFrom('workflow_enrollments as e')
    .innerJoin('workflows as w', 'w.id', 'e.workflow_id')
    .select(['e.id', 'e.workflow_id', 'w.name', 'e.version', 'e.contact_id', 'e.state', 'e.step_id', 'e.next_run_at', 'e.attempts', 'e.trigger', 'e.reason', 'e.created_at', 'e.finished_at'])
    .where('e.institution_id', '=', institutionId);
}

async function withSteps(db: Db, rows: Row[]): Promise<EnrollmentView[]> {
  if (rows.length === 0) return [];
  const runs = await db
    .selectFrom('workflow_step_runs as s')
    .leftJoin('outbox_messages as m', 'm.id', 's.id')
    .select(['s.id', 's.enrollment_id', 's.step_id', 's.step_type', 's.attempt', 's.outcome', 's.detail', 's.ran_at', 'm.id as mail_id', 'm.status as mail_status', 'm.attempts as mail_attempts', 'm.last_error', 'm.sent_at'])
    .where('s.enrollment_id', 'in', rows.map((r) => r.id))
    .orderBy('s.ran_at')
    .orderBy('s.id')
    .execute();
  return rows.map((r) => ({
    ...viewOf(r),
    steps: runs
      .filter((s) => s.enrollment_id === r.id)
      .map((s) => ({
        stepId: s.step_id,
        stepType: s.step_type,
        attempt: s.attempt,
        outcome: s.outcome,
        detail: s.detail,
        ranAt: s.ran_at,
        email: s.mail_id ? { status: s.mail_status!, attempts: Number(s.mail_attempts), lastError: s.last_error, sentAt: s.sent_at ? new Date(s.sent_at).toISOString() : null } : null,
      })),
  }));
}

/** A contact's runs, newest first, each with its step history. */
export async function contactRuns(db: Db, institutionId: string, contactId: string): Promise<EnrollmentView[]> {
  const rows = (await enrollmentQuery(db, institutionId).where('e.contact_id', '=', contactId).orderBy('e.created_at', 'desc').orderBy('e.id', 'desc').limit(200).execute()) as Row[];
  return withSteps(db, rows);
}

export async function getEnrollment(db: Db, institutionId: string, id: string): Promise<EnrollmentView> {
  const row = (await enrollmentQuery(db, institutionId).where('e.id', '=', id).executeTakeFirst()) as Row | undefined;
  if (!row) throw notFound('Enrollment');
  return (await withSteps(db, [row]))[0];
}

/** A workflow's enrollments, by id (creation order), `after` being the last id of the previous page. */
export async function listEnrollments(db: Db, institutionId: string, workflowId: string, opts: { state?: EnrollmentView['state']; after?: string; limit: number }): Promise<EnrollmentView[]> {
  let q = enrollmentQuery(db, institutionId).where('e.workflow_id', '=', workflowId);
  if (opts.state) q = q.where('e.state', '=', opts.state);
  if (opts.after) q = q.where('e.id', '>', opts.after);
  return ((await q.orderBy('e.id').limit(opts.limit).execute()) as Row[]).map(viewOf);
}
