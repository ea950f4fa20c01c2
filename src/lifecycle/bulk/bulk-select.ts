import { z } from 'zod';
import type { AppContext, Db } from '../../context.ts';
import { approvalStatuses, contactSources, optInStatuses, visibilities } from '../../db/schema.ts';
import { directoryQuery, type DirectoryFilters } from '../../contacts/directory.ts';
import type { Viewer } from '../../contacts/visibility.ts';

const id = z.string().min(1).max(100);

/**
 * Which contacts a bulk action takes: the directory's filters (same meaning, same defaults:
 * rejected and disabled contacts are left out unless asked for), or explicit ids.
 */
export const bulkFilterSchema = z.strictObject({
  ids: z.array(id).min(1).max(10_000).optional().describe('these contacts (still limited to the ones you may see)'),
  email: z.string().max(254).optional(),
  lastName: z.string().max(200).optional(),
  firstName: z.string().max(200).optional(),
  q: z.string().max(200).optional(),
  organizationId: id.optional(),
  employerId: id.optional(),
  ownerUserId: id.optional(),
  visibility: z.enum(visibilities).optional(),
  approvalStatus: z.enum(approvalStatuses).optional(),
  lifecycle: z.enum(['active', 'disabled', 'any']).optional(),
  source: z.enum(contactSources).optional(),
  optInStatus: z.enum(optInStatuses).optional(),
  createdFrom: z.iso.datetime({ offset: true }).optional(),
  createdTo: z.iso.datetime({ offset: true }).optional(),
  attributes: z
    .array(z.strictObject({ key: z.string().min(1).max(64), op: z.enum(['eq', 'gte', 'lte']).default('eq'), values: z.array(z.string().max(2000)).min(1).max(100) }))
    .max(20)
    .optional(),
});
export type BulkFilter = z.output<typeof bulkFilterSchema>;

export type Selection = Awaited<ReturnType<typeof selectionQuery>>;

/**
 * The directory query behind a filter, without its page limit and order: every matching id.
 * Built before any transaction opens (it may count along indexes to pick its plan).
 */
export async function selectionQuery(ctx: AppContext, institutionId: string, viewer: Viewer, filter: BulkFilter) {
  const { ids, ...rest } = filter;
  const filters: DirectoryFilters = { ...rest, sort: 'createdAt' };
  // No page to stop at: the most selective filter drives (directory-plan.ts), however many it matches.
  const q = (await directoryQuery(ctx, institutionId, viewer, filters, { driveLimit: Number.MAX_SAFE_INTEGER })).clearLimit().clearOrderBy().clearSelect().select('contacts.id');
  return ids ? q.where('contacts.id', 'in', [...new Set(ids)]) : q;
}

/** How many contacts the filter takes now: the preview shown before anything runs. */
export async function previewCount(ctx: AppContext, institutionId: string, viewer: Viewer, filter: BulkFilter): Promise<number> {
  const q = await selectionQuery(ctx, institutionId, viewer, filter);
  const row = await ctx.db
    .selectFrom(q.as('m'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Fixes the set in the job's own table, in the caller's transaction (the one queueing the job), so
 * the job works through exactly what was previewed, resumes by contact id, and never stores the
 * filter, which may hold a name or an email.
 */
export async function snapshotSelection(trx: Db, jobId: string, q: Selection): Promise<number> {
  const inserted = await trx
    .insertInto('bulk_job_items')
    .columns(['job_id', 'contact_id'])
    .expression((eb) => eb.selectFrom(q.as('m')).select([eb.val(jobId).as('job_id'), 'm.id as contact_id']) as never)
    .executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0);
}
