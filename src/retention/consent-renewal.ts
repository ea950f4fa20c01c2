import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { Viewer } from '../contacts/visibility.ts';
import { enrollFiltered } from '../workflows/enrollments.ts';
import { effectiveRecency } from './recency-store.ts';

/** Seed 004 step 3 names the date as YYYYMMDD; an ISO date or date-time is accepted too. */
export const recencyDate = z
  .string()
  .trim()
  .regex(/^\d{8}$|^\d{4}-\d{2}-\d{2}(T.*)?$/, 'must be a date: YYYYMMDD or YYYY-MM-DD')
  .transform((v, ctx) => {
    const iso = /^\d{8}$/.test(v) ? `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6)}T00:00:00Z` : v.length === 10 ? `${v}T00:00:00Z` : v;
    const t = Date.parse(iso);
    if (Number.isNaN(t)) {
      ctx.addIssue({ code: 'custom', message: 'is not a valid date' });
      return z.NEVER;
    }
    return new Date(t).toISOString();
  });

export const consentRenewalBody = z.strictObject({
  workflowId: z.string().min(1).max(100).describe('the workflow that sends the renewal email (e.g. one made from the consent_renewal template)'),
  recencyBefore: recencyDate.describe('contacts whose last activity (recency) is before this date are enrolled'),
});

/**
 * Seed 004's consent renewal: enrolls in a workflow (whose email carries the tracked link to the
 * consent-renewal page) every contact the caller may see whose recency is before the date and who
 * is not an anonymised stub. The click on that link is activity, so the batch then spares them.
 */
export async function enrollStaleContacts(ctx: AppContext, institutionId: string, viewer: Viewer, input: z.output<typeof consentRenewalBody>): Promise<{ matched: number; enrolled: number }> {
  const rows = await ctx.db
    .selectFrom('contacts as c')
    .leftJoin('contact_recency as r', 'r.contact_id', 'c.id')
    .select('c.id')
    .where('c.institution_id', '=', institutionId)
    .where(effectiveRecency, '<', input.recencyBefore)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('anonymised_contacts as a').select('a.stub_id').whereRef('a.stub_id', '=', 'c.id'))))
    .orderBy('c.id')
    .execute();
  let matched = 0;
  let enrolled = 0;
  // The workflow's own filter takes ids in sets of up to 10,000 and applies the caller's visibility.
  for (let i = 0; i < rows.length; i += 10_000) {
    const r = await enrollFiltered(ctx, institutionId, viewer, input.workflowId, { ids: rows.slice(i, i + 10_000).map((x) => x.id) } as Parameters<typeof enrollFiltered>[4]);
    matched += r.matched;
    enrolled += r.enrolled;
  }
  return { matched, enrolled };
}
