import { sql, type ExpressionBuilder, type SelectQueryBuilder } from 'kysely';
import type { AppContext } from '../context.ts';
import type { ApprovalStatus, ContactSource, Database, OptInStatus, Visibility } from '../db/schema.ts';
import { attributeValues, resolveAttributeFilters, type AttributeFilter, type ResolvedAttributeFilter } from './attribute-filters.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { chooseDriver, type DriverCandidate } from './directory-plan.ts';
import type { Page } from './employers.ts';
import { emailSearchKey, foldName } from './normalize.ts';
import { prefixRange } from './prefix.ts';
import { isDisabled, visibleTo, type Viewer } from './visibility.ts';

export type { AttributeFilter };

export const directorySorts = ['createdAt', 'lastName', 'firstName'] as const;
export type DirectorySort = (typeof directorySorts)[number];

export interface DirectoryFilters {
  /** exact, after normalisation */
  email?: string;
  /** prefixes, folded like stored names */
  lastName?: string;
  firstName?: string;
  /** prefix of the first name, the last name or the email */
  q?: string;
  organizationId?: string;
  employerId?: string;
  ownerUserId?: string;
  visibility?: Visibility;
  /** without it, rejected contacts are left out (seed 001: rejecting removes from the directory) */
  approvalStatus?: ApprovalStatus;
  /** active (default): leaves out disabled (soft-deleted) contacts; disabled: only those; any: both */
  lifecycle?: 'active' | 'disabled' | 'any';
  source?: ContactSource;
  optInStatus?: OptInStatus;
  createdFrom?: string;
  /** exclusive */
  createdTo?: string;
  attributes?: AttributeFilter[];
  /** default: the name being searched when there is one (so its index gives the order), else createdAt */
  sort?: DirectorySort;
  order?: 'asc' | 'desc';
  after?: string;
  limit?: number;
}

export interface ContactSummary {
  id: string;
  firstName: string;
  lastName: string;
  email: string | null;
  mobilePhone: string | null;
  organizationId: string | null;
  employerId: string | null;
  ownerUserId: string | null;
  visibility: Visibility;
  approvalStatus: ApprovalStatus;
  source: ContactSource;
  optInStatus: OptInStatus;
  createdAt: string;
  updatedAt: string;
}

export const maxDirectoryLimit = 200;
const sortColumns = { createdAt: 'contacts.created_at', lastName: 'contacts.last_name_folded', firstName: 'contacts.first_name_folded' } as const;
const summaryColumns = [
  'contacts.id',
  'contacts.first_name',
  'contacts.last_name',
  'contacts.first_name_folded',
  'contacts.last_name_folded',
  'contacts.email',
  'contacts.mobile_phone',
  'contacts.organization_id',
  'contacts.employer_id',
  'contacts.owner_user_id',
  'contacts.visibility',
  'contacts.approval_status',
  'contacts.source',
  'contacts.opt_in_status',
  'contacts.created_at',
  'contacts.updated_at',
] as const;

type SummaryRow = {
  id: string;
  first_name: string;
  last_name: string;
  first_name_folded: string;
  last_name_folded: string;
  email: string | null;
  mobile_phone: string | null;
  organization_id: string | null;
  employer_id: string | null;
  owner_user_id: string | null;
  visibility: Visibility;
  approval_status: ApprovalStatus;
  source: ContactSource;
  opt_in_status: OptInStatus;
  created_at: string;
  updated_at: string;
};

export type DirectoryQuery = SelectQueryBuilder<Database, 'contacts', SummaryRow>;

export function resolveSort(filters: DirectoryFilters): { sort: DirectorySort; order: 'asc' | 'desc' } {
  const sort = filters.sort ?? (filters.lastName ? 'lastName' : filters.firstName ? 'firstName' : 'createdAt');
  return { sort, order: filters.order ?? (sort === 'createdAt' ? 'desc' : 'asc') };
}

/** Counts up to `cap` rows of a subquery: a bounded walk along the index serving it. */
async function countUpTo(ctx: AppContext, subquery: (eb: ExpressionBuilder<Database, 'contacts'>) => SelectQueryBuilder<any, any, any>, cap: number): Promise<number> {
  const row = await ctx.db
    .selectFrom((eb) => subquery(eb as unknown as ExpressionBuilder<Database, 'contacts'>).limit(cap).as('m'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

type RangeColumn = 'contacts.last_name_folded' | 'contacts.first_name_folded' | 'contacts.email_normalized';

function rangeRows(eb: ExpressionBuilder<Database, 'contacts'>, institutionId: string, column: RangeColumn, [from, to]: [string, string]) {
  return eb.selectFrom('contacts').select('contacts.id').where('contacts.institution_id', '=', institutionId).where(column, '>=', from).where(column, '<', to);
}

/** Overrides of the SQLite plan choice, for tests and benchmarks that compare plans. */
export interface DirectoryPlanOptions {
  /** directory-plan.ts's cap: 0 never lets a filter drive */
  driveLimit?: number;
  /** false: never walk an attribute index in creation order */
  attributeWalk?: boolean;
}

/** What drives a query: one selective filter's index, or (null) the walk along the sort index. */
type Driver = 'email' | 'lastName' | 'firstName' | 'q' | 'employer' | ResolvedAttributeFilter;

/**
 * The directory query for one page: scoped to the institution and to what the viewer may see,
 * filtered, ordered by (sort key, id) and positioned after the cursor. Every filter is an index
 * range or equality: exact email on (institution, email_normalized), name prefixes as ranges on
 * the folded-name indexes, attributes through (attribute_id, value_text, contact_id). On SQLite
 * the driving index is chosen first (directory-plan.ts), or, sorted by creation, an attribute
 * equality's index is walked in id order; every other indexed column is wrapped in a unary + so
 * the planner cannot wander onto it. Exported so benchmarks can time the query itself.
 */
export async function directoryQuery(
  ctx: AppContext,
  institutionId: string,
  viewer: Viewer,
  filters: DirectoryFilters,
  plan: DirectoryPlanOptions = {},
): Promise<DirectoryQuery> {
  const limit = Math.min(Math.max(filters.limit ?? 50, 1), maxDirectoryLimit);
  const { sort, order } = resolveSort(filters);
  const attributes = filters.attributes?.length ? await resolveAttributeFilters(ctx, institutionId, filters.attributes) : [];
  const lastName = filters.lastName ? prefixRange(foldName(filters.lastName)) : null;
  const firstName = filters.firstName ? prefixRange(foldName(filters.firstName)) : null;
  const search = filters.q?.trim() ? { name: prefixRange(foldName(filters.q)), email: prefixRange(emailSearchKey(filters.q)) } : null;
  const employerId = filters.employerId;

  const candidates: DriverCandidate<Driver>[] = [];
  const count = (rows: (eb: ExpressionBuilder<Database, 'contacts'>) => SelectQueryBuilder<any, any, any>) => (cap: number) => countUpTo(ctx, rows, cap);
  if (lastName && sort !== 'lastName') candidates.push({ id: 'lastName', count: count((eb) => rangeRows(eb, institutionId, 'contacts.last_name_folded', lastName)) });
  if (firstName && sort !== 'firstName') candidates.push({ id: 'firstName', count: count((eb) => rangeRows(eb, institutionId, 'contacts.first_name_folded', firstName)) });
  if (search) {
    const parts = [
      count((eb) => rangeRows(eb, institutionId, 'contacts.last_name_folded', search.name)),
      count((eb) => rangeRows(eb, institutionId, 'contacts.first_name_folded', search.name)),
      count((eb) => rangeRows(eb, institutionId, 'contacts.email_normalized', search.email)),
    ];
    candidates.push({
      id: 'q',
      count: async (cap) => {
        let n = 0;
        for (const part of parts) if ((n += await part(cap)) >= cap) break;
        return n;
      },
    });
  }
  if (employerId) {
    candidates.push({
      id: 'employer',
      count: count((eb) => eb.selectFrom('contacts').select('contacts.id').where('contacts.employer_id', '=', employerId).where('contacts.institution_id', '=', institutionId)),
    });
  }
  // Contact ids are UUIDv7 minted from created_at (contacts.ts), so id order is creation order: on
  // SQLite an attribute equality walks its own index in contact_id order and stops after a page.
  const hinting = ctx.store.kind === 'sqlite';
  const ordered = hinting && plan.attributeWalk !== false && sort === 'createdAt' && filters.email === undefined ? (attributes.find((f) => f.op === 'eq' && f.texts.length === 1) ?? null) : null;
  for (const f of attributes) if (f !== ordered) candidates.push({ id: f, count: count((eb) => attributeValues(eb, f)) });
  const driver: Driver | null = filters.email !== undefined ? 'email' : await chooseDriver(ctx, candidates, plan.driveLimit);
  const attributeWalk = driver === null ? ordered : null;

  const walk = driver === null && attributeWalk === null;
  const col = <C extends string>(column: C, indexed: boolean) => (hinting && !indexed ? sql<string>`+${sql.ref(column)}` : sql.ref<string>(column));
  const lastNameCol = col('contacts.last_name_folded', driver === 'lastName' || (walk && sort === 'lastName'));
  const firstNameCol = col('contacts.first_name_folded', driver === 'firstName' || (walk && sort === 'firstName'));
  const createdCol = col('contacts.created_at', walk && sort === 'createdAt');

  // CROSS JOIN makes SQLite keep the attribute index as the outer loop.
  const from = attributeWalk
    ? (ctx.db
        .selectFrom('contact_attribute_values as d')
        .crossJoin('contacts')
        .where('d.attribute_id', '=', attributeWalk.definition.id)
        .where('d.value_text', '=', attributeWalk.texts[0])
        .whereRef('contacts.id', '=', 'd.contact_id') as unknown as SelectQueryBuilder<Database, 'contacts', {}>)
    : ctx.db.selectFrom('contacts');
  // When the driving index is not the tenant's own range (a search's three ranges, an employer's or
  // an attribute's index), the tenant condition is a filter: without planner statistics SQLite takes
  // it for a few rows and walks the whole tenant instead. Each of a search's ranges names the tenant.
  const tenantLed = driver === null || driver === 'email' || driver === 'lastName' || driver === 'firstName';
  let q = from.select(summaryColumns).where(col('contacts.institution_id', tenantLed), '=', institutionId).where(visibleTo(viewer));
  if (filters.email !== undefined) q = q.where('contacts.email_normalized', '=', emailSearchKey(filters.email));
  if (lastName) q = q.where(lastNameCol, '>=', lastName[0]).where(lastNameCol, '<', lastName[1]);
  if (firstName) q = q.where(firstNameCol, '>=', firstName[0]).where(firstNameCol, '<', firstName[1]);
  if (search) {
    const ranges: [ReturnType<typeof col>, [string, string]][] = [
      [col('contacts.last_name_folded', driver === 'q'), search.name],
      [col('contacts.first_name_folded', driver === 'q'), search.name],
      [col('contacts.email_normalized', driver === 'q'), search.email],
    ];
    q = q.where((eb) =>
      eb.or(ranges.map(([c, [from, to]]) => eb.and([...(driver === 'q' ? [eb('contacts.institution_id', '=', institutionId)] : []), eb(c, '>=', from), eb(c, '<', to)]))),
    );
  }
  if (employerId) q = q.where(col('contacts.employer_id', driver === 'employer'), '=', employerId);
  if (filters.organizationId) q = q.where('contacts.organization_id', '=', filters.organizationId);
  if (filters.ownerUserId) q = q.where('contacts.owner_user_id', '=', filters.ownerUserId);
  if (filters.visibility) q = q.where('contacts.visibility', '=', filters.visibility);
  q = filters.approvalStatus
    ? q.where('contacts.approval_status', '=', filters.approvalStatus)
    : q.where('contacts.approval_status', '!=', 'rejected');
  if (filters.lifecycle === 'disabled') {
    q = q.where('contacts.id', 'in', (eb) => eb.selectFrom('disabled_contacts').select('disabled_contacts.contact_id').where('disabled_contacts.institution_id', '=', institutionId));
  } else if (filters.lifecycle !== 'any' && viewer.seeStaffOnly) {
    // (visibleTo already leaves disabled contacts out for everyone else)
    q = q.where((eb) => eb.not(isDisabled(eb)));
  }
  if (filters.source) q = q.where('contacts.source', '=', filters.source);
  if (filters.optInStatus) q = q.where('contacts.opt_in_status', '=', filters.optInStatus);
  if (filters.createdFrom) q = q.where(createdCol, '>=', new Date(filters.createdFrom).toISOString());
  if (filters.createdTo) q = q.where(createdCol, '<', new Date(filters.createdTo).toISOString());
  for (const f of attributes) {
    if (f === attributeWalk) continue;
    q = f === driver
      ? q.where('contacts.id', 'in', (eb) => attributeValues(eb, f))
      : q.where((eb) => eb.exists(attributeValues(eb, f).where('v.contact_id', '=', eb.ref('contacts.id'))));
  }

  const sortKey = col(sortColumns[sort], walk);
  const idKey = col('contacts.id', walk);
  const after = order === 'asc' ? '>' : '<';
  if (filters.after) {
    const [value, id] = decodeCursor(`contacts:${sort}:${order}`, filters.after, 2);
    q = q.where((eb) => eb(eb.tuple(sortKey, idKey), after, eb.tuple(String(value), String(id))));
    if (attributeWalk) q = q.where(sql.ref('d.contact_id'), after, String(id));
  }
  if (attributeWalk) return q.orderBy(sql.ref('d.contact_id'), order).limit(limit + 1);
  return q.orderBy(sortKey, order).orderBy(idKey, order).limit(limit + 1);
}

function summaryOf(r: SummaryRow): ContactSummary {
  return {
    id: r.id,
    firstName: r.first_name,
    lastName: r.last_name,
    email: r.email,
    mobilePhone: r.mobile_phone,
    organizationId: r.organization_id,
    employerId: r.employer_id,
    ownerUserId: r.owner_user_id,
    visibility: r.visibility,
    approvalStatus: r.approval_status,
    source: r.source,
    optInStatus: r.opt_in_status,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const sortValue: Record<DirectorySort, (r: SummaryRow) => string> = {
  createdAt: (r) => r.created_at,
  lastName: (r) => r.last_name_folded,
  firstName: (r) => r.first_name_folded,
};

/** One page of the directory, with the cursor of the next page (null on the last). */
export async function searchDirectory(
  ctx: AppContext,
  institutionId: string,
  viewer: Viewer,
  filters: DirectoryFilters,
  plan: DirectoryPlanOptions = {},
): Promise<Page<ContactSummary>> {
  const limit = Math.min(Math.max(filters.limit ?? 50, 1), maxDirectoryLimit);
  const { sort, order } = resolveSort(filters);
  const rows = await (await directoryQuery(ctx, institutionId, viewer, filters, plan)).execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(summaryOf),
    nextCursor: rows.length > limit && last ? encodeCursor(`contacts:${sort}:${order}`, [sortValue[sort](last), last.id]) : null,
  };
}
