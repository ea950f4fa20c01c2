import { sql } from 'kysely';
import type { AppContext, Db } from '../../context.ts';
import type { PossibleDuplicateStatus } from '../../db/schema.ts';
import { recordAudit, type Actor } from '../../audit/audit-log.ts';
import { notFound } from '../../http/problem.ts';
import { canSee, type Viewer } from '../../contacts/visibility.ts';
import { decodeCursor, encodeCursor } from '../../contacts/cursor.ts';
import type { JobHandler } from '../../jobs/worker.ts';
import type { Reason } from './fuzzy.ts';
import { scanPossibleDuplicates } from './scan.ts';
import { contactsInTenant } from '../../contacts/by-ids.ts';

export interface DuplicateContactView {
  id: string;
  firstName: string;
  lastName: string;
  email: string | null;
  mobilePhone: string | null;
  employerId: string | null;
  organizationId: string | null;
  source: string;
  createdAt: string;
}

export interface PossibleDuplicateView {
  id: string;
  score: number;
  reasons: { code: string; text: string }[];
  status: PossibleDuplicateStatus;
  contacts: [DuplicateContactView, DuplicateContactView];
  createdAt: string;
  updatedAt: string;
  dismissedAt: string | null;
  mergeUrl: string;
}

const contactColumns = [
  'id',
  'first_name',
  'last_name',
  'email',
  'mobile_phone',
  'employer_id',
  'organization_id',
  'source',
  'created_at',
  'visibility',
  'owner_user_id',
] as const;

type ContactRow = { id: string; first_name: string; last_name: string; email: string | null; mobile_phone: string | null; employer_id: string | null; organization_id: string | null; source: string; created_at: string; visibility: 'everyone' | 'staff_only' | 'owner_only'; owner_user_id: string | null };

const contactView = (c: ContactRow): DuplicateContactView => ({
  id: c.id,
  firstName: c.first_name,
  lastName: c.last_name,
  email: c.email,
  mobilePhone: c.mobile_phone,
  employerId: c.employer_id,
  organizationId: c.organization_id,
  source: c.source,
  createdAt: c.created_at,
});

/**
 * The queue, best score first. Pairs holding a contact the viewer may not see are left out (a
 * page may then hold fewer than `limit` items; follow nextCursor), as the directory leaves such
 * contacts out.
 */
export async function listPossibleDuplicates(
  db: Db,
  institutionId: string,
  viewer: Viewer,
  opts: { status: PossibleDuplicateStatus; after?: string; limit: number; contactId?: string },
): Promise<{ items: PossibleDuplicateView[]; nextCursor: string | null }> {
  const kind = `possible-duplicates-${opts.status}`;
  let q = db.selectFrom('possible_duplicates').selectAll().where('institution_id', '=', institutionId).where('status', '=', opts.status);
  if (opts.contactId) q = q.where((eb) => eb.or([eb('contact_a_id', '=', opts.contactId!), eb('contact_b_id', '=', opts.contactId!)]));
  if (opts.after) {
    const [score, id] = decodeCursor(kind, opts.after, 2);
    q = q.where((eb) => eb.or([eb('score', '<', Number(score)), eb.and([eb('score', '=', Number(score)), eb('id', '>', String(id))])]));
  }
  const rows = await q.orderBy('score', 'desc').orderBy('id').limit(opts.limit + 1).execute();
  const page = rows.slice(0, opts.limit);
  const ids = [...new Set(page.flatMap((r) => [r.contact_a_id, r.contact_b_id]))];
  const contacts = ids.length ? await db.selectFrom('contacts').select(contactColumns).where(contactsInTenant(db, institutionId, ids)).execute() : [];
  const byId = new Map(contacts.map((c) => [c.id, c as ContactRow]));
  const items: PossibleDuplicateView[] = [];
  for (const r of page) {
    const a = byId.get(r.contact_a_id);
    const b = byId.get(r.contact_b_id);
    if (!a || !b || !canSee(viewer, a) || !canSee(viewer, b)) continue;
    items.push({
      id: r.id,
      score: r.score,
      reasons: (JSON.parse(r.reasons) as Reason[]).map(({ code, text }) => ({ code, text })),
      status: r.status,
      contacts: [contactView(a), contactView(b)],
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      dismissedAt: r.dismissed_at,
      mergeUrl: `/api/contacts/${a.id}/merge`,
    });
  }
  const last = page[page.length - 1];
  return { items, nextCursor: rows.length > opts.limit && last ? encodeCursor(kind, [last.score, last.id]) : null };
}

/** Marks a pair "not the same person": later scans leave it dismissed. */
export async function dismissPossibleDuplicate(ctx: AppContext, institutionId: string, id: string, actor: Actor): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('possible_duplicates').selectAll().where('institution_id', '=', institutionId).where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('Possible duplicate');
    if (row.status === 'dismissed') return;
    const now = ctx.clock.now().toISOString();
    await trx.updateTable('possible_duplicates').set({ status: 'dismissed', dismissed_by: actor.userId, dismissed_at: now, updated_at: now }).where('id', '=', id).execute();
    await recordAudit(ctx, trx, {
      institutionId,
      actor,
      action: 'possible_duplicate.dismiss',
      target: { type: 'possible_duplicate', id },
      meta: { contactIds: [row.contact_a_id, row.contact_b_id], score: row.score },
    });
  });
}

export async function countOpen(db: Db, institutionId: string): Promise<number> {
  const row = await db
    .selectFrom('possible_duplicates')
    .select(sql<number>`count(*)`.as('n'))
    .where('institution_id', '=', institutionId)
    .where('status', '=', 'open')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export const POSSIBLE_DUPLICATES_SCAN_JOB = 'possible-duplicates.scan';

/** The job: a full scan, or (payload.since) the contacts created since then, e.g. by an import. */
export const possibleDuplicatesScanHandler: JobHandler = async (ctx, job, control) => {
  const payload = JSON.parse(job.payload) as { since?: string | null };
  const result = await scanPossibleDuplicates(ctx, job.institution_id!, { since: payload.since ?? null, onProgress: (n) => control.progress(n) });
  return result;
};
