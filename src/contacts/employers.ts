import type { AppContext, Db } from '../context.ts';
import { newId } from '../ids.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { conflict, invalidField, notFound } from '../http/problem.ts';
import { isUniqueViolation } from '../db/unique-violation.ts';
import { foldName, tidyName } from './normalize.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { visibleTo, type Viewer } from './visibility.ts';
import { prefixRange } from './prefix.ts';

export interface EmployerView {
  id: string;
  name: string;
  createdAt: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const view = (row: { id: string; name: string; created_at: string }): EmployerView => ({ id: row.id, name: row.name, createdAt: row.created_at });

function checkedName(raw: string): { name: string; folded: string } {
  const name = tidyName(raw);
  const folded = foldName(name);
  if (!folded) throw invalidField('name', 'must not be empty');
  if (name.length > 200) throw invalidField('name', 'must be at most 200 characters');
  return { name, folded };
}

const nameTaken = (name: string) => conflict(`An employer named "${name}" already exists.`, [{ field: 'name', message: 'is already taken' }]);

export async function createEmployer(ctx: AppContext, institutionId: string, rawName: string, actor: Actor): Promise<EmployerView> {
  const { name, folded } = checkedName(rawName);
  const row = { id: newId(), institution_id: institutionId, name, name_folded: folded, created_at: ctx.clock.now().toISOString() };
  try {
    await ctx.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('employers')
        .select('id')
        .where('institution_id', '=', institutionId)
        .where('name_folded', '=', folded)
        .executeTakeFirst();
      if (existing) throw nameTaken(name);
      await trx.insertInto('employers').values(row).execute();
      await recordAudit(ctx, trx, { institutionId, actor, action: 'employer.create', target: { type: 'employer', id: row.id }, after: { name } });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(name);
    throw error;
  }
  return view(row);
}

export async function getEmployer(db: Db, institutionId: string, id: string): Promise<EmployerView> {
  const row = await db
    .selectFrom('employers')
    .select(['id', 'name', 'created_at'])
    .where('institution_id', '=', institutionId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound('Employer');
  return view(row);
}

export async function renameEmployer(ctx: AppContext, institutionId: string, id: string, rawName: string, actor: Actor): Promise<EmployerView> {
  const { name, folded } = checkedName(rawName);
  try {
    return await ctx.db.transaction().execute(async (trx) => {
      const current = await getEmployer(trx, institutionId, id);
      const clash = await trx
        .selectFrom('employers')
        .select('id')
        .where('institution_id', '=', institutionId)
        .where('name_folded', '=', folded)
        .where('id', '!=', id)
        .executeTakeFirst();
      if (clash) throw nameTaken(name);
      if (current.name === name) return current;
      await trx.updateTable('employers').set({ name, name_folded: folded }).where('id', '=', id).execute();
      await recordAudit(ctx, trx, {
        institutionId,
        actor,
        action: 'employer.rename',
        target: { type: 'employer', id },
        before: { name: current.name },
        after: { name },
      });
      return { ...current, name };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(name);
    throw error;
  }
}

/** Employers by name (folded prefix), in name order, with a keyset cursor. */
export async function listEmployers(
  db: Db,
  institutionId: string,
  opts: { prefix?: string; after?: string; limit: number },
): Promise<Page<EmployerView>> {
  let q = db.selectFrom('employers').select(['id', 'name', 'name_folded', 'created_at']).where('institution_id', '=', institutionId);
  if (opts.prefix) {
    const [from, to] = prefixRange(foldName(opts.prefix));
    q = q.where('name_folded', '>=', from).where('name_folded', '<', to);
  }
  if (opts.after) {
    const [folded, id] = decodeCursor('employers', opts.after, 2);
    q = q.where((eb) => eb(eb.refTuple('name_folded', 'id'), '>', eb.tuple(String(folded), String(id))));
  }
  const rows = await q.orderBy('name_folded').orderBy('id').limit(opts.limit + 1).execute();
  const items = rows.slice(0, opts.limit);
  const last = items.at(-1);
  return { items: items.map(view), nextCursor: rows.length > opts.limit && last ? encodeCursor('employers', [last.name_folded, last.id]) : null };
}

export interface EmployerContactView {
  id: string;
  firstName: string;
  lastName: string;
  /** when the contact joined this employer (current) or left it (former) */
  since: string | null;
  endedAt: string | null;
  /** where the contact works now: a former contact archived to "Inactive" shows as such (seed 001) */
  currentEmployer: { id: string; name: string } | null;
}

/**
 * Current contacts (employer now) or former ones (an ended employment there and another, or no,
 * employer now), as seed 001's "Former Contact" list; only contacts the viewer may see.
 */
export async function employerContacts(
  db: Db,
  institutionId: string,
  viewer: Viewer,
  employerId: string,
  opts: { status: 'current' | 'former'; after?: string; limit: number },
): Promise<Page<EmployerContactView>> {
  await getEmployer(db, institutionId, employerId);
  let q = db
    .selectFrom('contacts')
    .leftJoin('employers as current', 'current.id', 'contacts.employer_id')
    .select(['contacts.id', 'contacts.first_name', 'contacts.last_name', 'contacts.last_name_folded', 'contacts.employer_id', 'current.name as current_name'])
    .where('contacts.institution_id', '=', institutionId)
    .where(visibleTo(viewer));
  if (opts.status === 'current') {
    q = q.where('contacts.employer_id', '=', employerId);
  } else {
    q = q
      .where((eb) => eb.or([eb('contacts.employer_id', 'is', null), eb('contacts.employer_id', '!=', employerId)]))
      .where('contacts.id', 'in', (eb) =>
        eb.selectFrom('contact_employments').select('contact_id').where('employer_id', '=', employerId).where('ended_at', 'is not', null),
      );
  }
  if (opts.after) {
    const [folded, id] = decodeCursor(`employer-${opts.status}`, opts.after, 2);
    q = q.where((eb) => eb(eb.refTuple('contacts.last_name_folded', 'contacts.id'), '>', eb.tuple(String(folded), String(id))));
  }
  const rows = await q.orderBy('contacts.last_name_folded').orderBy('contacts.id').limit(opts.limit + 1).execute();
  const page = rows.slice(0, opts.limit);
  const periods = page.length
    ? await db
        .selectFrom('contact_employments')
        .select(['contact_id', 'started_at', 'ended_at'])
        .where('employer_id', '=', employerId)
        .where('contact_id', 'in', page.map((r) => r.id))
        .orderBy('started_at')
        .execute()
    : [];
  const latest = new Map(periods.map((p) => [p.contact_id, p]));
  const last = page.at(-1);
  return {
    items: page.map((r) => ({
      id: r.id,
      firstName: r.first_name,
      lastName: r.last_name,
      since: latest.get(r.id)?.started_at ?? null,
      endedAt: opts.status === 'former' ? (latest.get(r.id)?.ended_at ?? null) : null,
      currentEmployer: r.employer_id && r.current_name ? { id: r.employer_id, name: r.current_name } : null,
    })),
    nextCursor: rows.length > opts.limit && last ? encodeCursor(`employer-${opts.status}`, [last.last_name_folded, last.id]) : null,
  };
}

/** Ends the contact's current employment and opens one at the new employer (none when null). */
export async function moveEmployment(trx: Db, institutionId: string, contactId: string, toEmployerId: string | null, now: string): Promise<void> {
  await trx
    .updateTable('contact_employments')
    .set({ ended_at: now })
    .where('contact_id', '=', contactId)
    .where('ended_at', 'is', null)
    .execute();
  if (toEmployerId) {
    await trx
      .insertInto('contact_employments')
      .values({ id: newId(), institution_id: institutionId, contact_id: contactId, employer_id: toEmployerId, started_at: now, ended_at: null })
      .execute();
  }
}

export interface EmploymentView {
  employerId: string;
  name: string;
  startedAt: string;
  endedAt: string | null;
}

/** The contact's employments, newest first. */
export async function employmentHistory(db: Db, institutionId: string, contactId: string): Promise<EmploymentView[]> {
  const rows = await db
    .selectFrom('contact_employments')
    .innerJoin('employers', 'employers.id', 'contact_employments.employer_id')
    .select(['contact_employments.employer_id', 'employers.name', 'contact_employments.started_at', 'contact_employments.ended_at'])
    .where('contact_employments.institution_id', '=', institutionId)
    .where('contact_employments.contact_id', '=', contactId)
    .orderBy('contact_employments.started_at', 'desc')
    .orderBy('contact_employments.id', 'desc')
    .execute();
  return rows.map((r) => ({ employerId: r.employer_id, name: r.name, startedAt: r.started_at, endedAt: r.ended_at }));
}
