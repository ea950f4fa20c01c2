import { sql, type SelectQueryBuilder } from 'kysely';
import type { AppContext, Db } from '../context.ts';
import type { Contact, Database } from '../db/schema.ts';
import { attributeValueOf } from '../contacts/attribute-values.ts';
import { encodeCursor } from '../contacts/cursor.ts';
import { directoryQuery, type AttributeFilter, type DirectoryFilters } from '../contacts/directory.ts';
import { visibleTo, type Viewer } from '../contacts/visibility.ts';
import type { ExportTable } from './archive.ts';
import { pageRows, SqlitePageReader, type RawPage } from './sqlite-page-reader.ts';

/** What an export holds. Stored as JSON on the export row. */
export type ContactFilters = Omit<DirectoryFilters, 'sort' | 'order' | 'after' | 'limit' | 'attributes'> & { attributes?: AttributeFilter[] };
export type ExportScope =
  | { type: 'contacts'; filters: ContactFilters }
  | { type: 'project'; projectId: string }
  | { type: 'sequence'; sequenceId: string }
  | { type: 'organization'; organizationId: string }
  | { type: 'subject'; contactIds: string[] };

export const PAGE_SIZE = 2000;

type ContactRow = Pick<
  Contact,
  | 'id'
  | 'first_name'
  | 'last_name'
  | 'email'
  | 'mobile_phone'
  | 'organization_id'
  | 'employer_id'
  | 'owner_user_id'
  | 'visibility'
  | 'approval_status'
  | 'source'
  | 'opt_in_status'
  | 'opt_in_changed_at'
  | 'created_at'
  | 'updated_at'
>;

const contactColumns = [
  'contacts.id',
  'contacts.first_name',
  'contacts.last_name',
  'contacts.email',
  'contacts.mobile_phone',
  'contacts.organization_id',
  'contacts.employer_id',
  'contacts.owner_user_id',
  'contacts.visibility',
  'contacts.approval_status',
  'contacts.source',
  'contacts.opt_in_status',
  'contacts.opt_in_changed_at',
  'contacts.created_at',
  'contacts.updated_at',
] as const;

/**
 * Each contact's custom attribute values and authorizations, as JSON arrays computed by the
 * database next to the row: one index probe per contact, no second round trip per page.
 */
const sqliteAttributes = sql<string | null>`(select json_group_array(json_array(v.attribute_id, v.value_text)) from contact_attribute_values v where v.contact_id = contacts.id)`;
const sqliteAuthorizations = sql<string | null>`(select json_group_array(json_array(a.purpose, a.granted, a.updated_at)) from contact_authorizations a where a.contact_id = contacts.id)`;

function enrichment(kind: 'sqlite' | 'postgres') {
  return kind === 'sqlite'
    ? [sqliteAttributes.as('attrs'), sqliteAuthorizations.as('auths')]
    : [
        sql<unknown>`(select json_agg(json_build_array(v.attribute_id, v.value_text)) from contact_attribute_values v where v.contact_id = contacts.id)`.as('attrs'),
        sql<unknown>`(select json_agg(json_build_array(a.purpose, a.granted, a.updated_at)) from contact_authorizations a where a.contact_id = contacts.id)`.as('auths'),
      ];
}

/** A page row (the values of `pageColumns`) as one JSON array written by SQLite, for the reader threads. */
const sqliteRowJson = sql<string>`json_array(${sql.join([...contactColumns.map((c) => sql.ref(c)), sql`json(${sqliteAttributes})`, sql`json(${sqliteAuthorizations})`])})`.as('row');

type EnrichedRow = ContactRow & { attrs: unknown; auths: unknown };

/** A page row: the values of `pageColumns`, in that order (arrays: a million rows are cheaper without a key set each). */
const pageColumns = [...contactColumns.map((c) => c.slice('contacts.'.length)), 'attrs', 'auths'] as (keyof EnrichedRow)[];
const at = Object.fromEntries(pageColumns.map((c, i) => [c, i])) as Record<keyof EnrichedRow, number>;

/** Pages of the scope's contacts the viewer may see, with their attributes and authorizations, each page one query. */
async function* contactPages(ctx: AppContext, institutionId: string, scope: ExportScope, viewer: Viewer, pageSize = PAGE_SIZE): AsyncGenerator<unknown[][]> {
  if (scope.type !== 'contacts' && ctx.store.kind === 'sqlite' && ctx.store.sqlitePath && ctx.store.sqlitePath !== ':memory:') {
    yield* storageOrderPages(ctx, ctx.store.sqlitePath, institutionId, scope, viewer, Math.min(pageSize, RANGE_ROWS));
    return;
  }
  let after: { createdAt: string; id: string } | null = null;
  for (;;) {
    let rows: EnrichedRow[];
    const extra = enrichment(ctx.store.kind);
    if (scope.type === 'contacts') {
      const filters: DirectoryFilters = {
        ...scope.filters,
        sort: 'createdAt',
        order: 'asc',
        after: after ? encodeCursor('contacts:createdAt:asc', [after.createdAt, after.id]) : undefined,
      };
      const q = (await directoryQuery(ctx, institutionId, viewer, filters)) as unknown as SelectQueryBuilder<Database, 'contacts', ContactRow>;
      rows = (await q.clearLimit().select('contacts.opt_in_changed_at').select(extra).limit(pageSize).execute()) as EnrichedRow[];
    } else {
      let q = scopedContacts(ctx.db, institutionId, scope, viewer).select(extra);
      if (after) q = q.where('contacts.id', '>', after.id);
      rows = (await q.orderBy('contacts.id').limit(pageSize).execute()) as EnrichedRow[];
    }
    if (rows.length === 0) return;
    yield rows.map((r) => pageColumns.map((c) => r[c]));
    if (rows.length < pageSize) return;
    const last = rows[rows.length - 1];
    after = { createdAt: last.created_at, id: last.id };
  }
}

/** Reader threads per export on SQLite: with two, reading keeps up with writing on a two-core machine. */
const READERS = 2;
/**
 * Rows per rowid range: smaller than PAGE_SIZE because ranges are read ahead, and rows waiting
 * in memory longer than a couple of young-generation collections are promoted: with 2,000 the
 * export's peak RSS grew by 40–80 MB more, for no measurable speed.
 */
const RANGE_ROWS = 1000;
/** The widest rowid range read at once, in page sizes (a page then holds at most this many pages' rows). */
const MAX_RANGE_PAGES = 8;

/**
 * SQLite, every scope but a filtered directory: the table in storage order, in rowid ranges
 * (sequential reads instead of one index seek per row; Lethe never VACUUMs, the one thing that
 * renumbers rowids). A range needs no cursor from the previous page, so the next ranges are read
 * ahead on the reader threads while the caller writes this one. Ranges aim at `pageSize` rows:
 * where the scope is sparse (a small team in a large table) they widen, so that the number of
 * queries follows the team's size more than the table's. The export holds the contacts that
 * existed when it started (rowids up to the largest one then).
 */
async function* storageOrderPages(
  ctx: AppContext,
  file: string,
  institutionId: string,
  scope: Exclude<ExportScope, { type: 'contacts' }>,
  viewer: Viewer,
  pageSize: number,
): AsyncGenerator<unknown[][]> {
  const last = await ctx.db.selectFrom('contacts').select(sql<number | null>`max(rowid)`.as('rowid')).executeTakeFirstOrThrow();
  const end = last.rowid ?? 0;
  const rangeQuery = rowidRangeQuery(ctx.db, institutionId, scope, viewer);
  const readers = Array.from({ length: Math.min(READERS, Math.ceil(end / pageSize)) }, () => new SqlitePageReader(file));
  const ahead: { width: number; page: Promise<RawPage> }[] = [];
  let from = 0;
  let width = pageSize;
  let turn = 0;
  const readNext = () => {
    if (from >= end) return;
    ahead.push({ width, page: readers[turn++ % readers.length].read(rangeQuery(from, from + width)) });
    from += width;
  };
  try {
    for (let i = 0; i < readers.length; i++) readNext();
    while (ahead.length) {
      const range = ahead.shift()!;
      const rows = pageRows(await range.page);
      width = rows.length >= pageSize / 2 ? pageSize : Math.min(range.width * 2, pageSize * MAX_RANGE_PAGES);
      readNext();
      if (rows.length) yield rows;
    }
  } finally {
    // Ranges still being read when the caller stops (a failure downstream) are simply dropped.
    for (const range of ahead) range.page.catch(() => {});
    await Promise.all(readers.map((r) => r.close()));
  }
}

/**
 * The contacts table for a rowid-range read (NOT INDEXED: the range itself stays the way in).
 * Without it SQLite may serve the tenant condition from an index led by institution_id and read
 * the whole tenant again for every range: it did so on a store without ANALYZE statistics (Lethe
 * never gathers them) and once an index came to cover the page query's columns, making a
 * 1,000,000-contact export take minutes instead of seconds.
 */
const contactsByRowidOnly = sql`contacts`.as(sql`contacts not indexed`) as unknown as 'contacts';

/**
 * The page query of one rowid range, as the reader threads run it: the same statement text for
 * every range (each reader prepares it once), the bounds as parameters.
 */
export function rowidRangeQuery(db: Db, institutionId: string, scope: Exclude<ExportScope, { type: 'contacts' }>, viewer: Viewer) {
  return (from: number, to: number) =>
    scopedContacts(db, institutionId, scope, viewer, contactsByRowidOnly)
      .clearSelect()
      .select(sqliteRowJson)
      .where(sql`contacts.rowid`, '>', from)
      .where(sql`contacts.rowid`, '<=', to)
      .orderBy(sql`contacts.rowid`)
      .compile();
}

/** The contacts of a project, a sequence, a team or a subject, as the viewer may see them. */
function scopedContacts(db: Db, institutionId: string, scope: Exclude<ExportScope, { type: 'contacts' }>, viewer: Viewer, table: 'contacts' = 'contacts') {
  let q = db.selectFrom(table).select(contactColumns).where('contacts.institution_id', '=', institutionId).where(visibleTo(viewer));
  switch (scope.type) {
    case 'project':
      return q.where('contacts.id', 'in', (eb) => eb.selectFrom('project_contacts').select('project_contacts.contact_id').where('project_contacts.project_id', '=', scope.projectId));
    case 'sequence':
      return q.where('contacts.id', 'in', (eb) =>
        eb.selectFrom('sequence_enrollments').select('sequence_enrollments.contact_id').where('sequence_enrollments.sequence_id', '=', scope.sequenceId),
      );
    case 'organization':
      // A team's full export: every contact it created, rejected ones included.
      return q.where('contacts.organization_id', '=', scope.organizationId);
    case 'subject':
      return q.where('contacts.id', 'in', scope.contactIds.length ? scope.contactIds : ['']);
  }
}

/** How many contacts the export will hold, counting at most `cap` (self-serve checks the limit without walking everything). */
export async function countScopeContacts(ctx: AppContext, institutionId: string, scope: ExportScope, viewer: Viewer, cap?: number): Promise<number> {
  let inner: SelectQueryBuilder<any, any, any>;
  if (scope.type === 'contacts') {
    const q = await directoryQuery(ctx, institutionId, viewer, { ...scope.filters, sort: 'createdAt', order: 'asc' });
    inner = q.clearLimit().clearOrderBy().clearSelect().select('contacts.id');
  } else {
    inner = scopedContacts(ctx.db, institutionId, scope, viewer).clearSelect().select('contacts.id');
  }
  if (cap !== undefined) inner = inner.limit(cap);
  const row = await ctx.db
    .selectFrom(inner.as('m'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

const contactHeader = [
  'id',
  'first_name',
  'last_name',
  'email',
  'mobile_phone',
  'employer',
  'organization_id',
  'owner_user_id',
  'visibility',
  'approval_status',
  'source',
  'opt_in_status',
  'opt_in_changed_at',
  'authorizations',
  'created_at',
  'updated_at',
];

/** The contacts table: each row with its employer's name, custom attributes (one column each) and authorizations. */
export async function contactsTable(ctx: AppContext, institutionId: string, scope: ExportScope, viewer: Viewer): Promise<ExportTable> {
  const definitions = await ctx.db
    .selectFrom('attribute_definitions')
    .select(['id', 'key', 'type'])
    .where('institution_id', '=', institutionId)
    .orderBy('key')
    .execute();
  const slot = new Map(definitions.map((d, i) => [d.id, i]));
  const columns = [...contactHeader, ...definitions.map((d) => `attr.${d.key}`)];
  const employerNames = new Map<string, string>();
  const base = contactHeader.length;

  // The JSON arrays arrive as text from a SQLite column (the filtered directory's pages), already parsed inside a reader
  // thread's row JSON or from PostgreSQL; most contacts have no authorization at all.
  const parsed = (v: unknown): unknown[] => (v === null || v === undefined || v === '[]' ? [] : typeof v === 'string' ? JSON.parse(v) : (v as unknown[]));

  async function* pages(): AsyncGenerator<unknown[][]> {
    for await (const rows of contactPages(ctx, institutionId, scope, viewer)) {
      const missing = [...new Set(rows.map((r) => r[at.employer_id] as string | null).filter((e): e is string => e !== null && !employerNames.has(e)))];
      if (missing.length) for (const e of await ctx.db.selectFrom('employers').select(['id', 'name']).where('id', 'in', missing).execute()) employerNames.set(e.id, e.name);
      yield rows.map((r) => {
        let grants: Record<string, { granted: boolean; updatedAt: string }> | null = null;
        for (const [purpose, granted, updatedAt] of parsed(r[at.auths]) as [string, number, string][]) {
          (grants ??= {})[purpose] = { granted: Number(granted) === 1, updatedAt: new Date(updatedAt).toISOString() };
        }
        const employerId = r[at.employer_id] as string | null;
        const row: unknown[] = [
          r[at.id],
          r[at.first_name],
          r[at.last_name],
          r[at.email],
          r[at.mobile_phone],
          employerId ? (employerNames.get(employerId) ?? null) : null,
          r[at.organization_id],
          r[at.owner_user_id],
          r[at.visibility],
          r[at.approval_status],
          r[at.source],
          r[at.opt_in_status],
          r[at.opt_in_changed_at],
          grants,
          r[at.created_at],
          r[at.updated_at],
        ];
        for (let s = 0; s < definitions.length; s++) row.push(null);
        for (const [attributeId, text] of parsed(r[at.attrs]) as [string, string][]) {
          const s = slot.get(attributeId);
          if (s !== undefined) row[base + s] = attributeValueOf(definitions[s].type, text, null);
        }
        return row;
      });
    }
  }

  return {
    name: 'contacts',
    columns,
    pages: pages(),
    json: (row) => {
      const attributes: Record<string, unknown> = {};
      definitions.forEach((d, s) => {
        if (row[base + s] !== undefined && row[base + s] !== null) attributes[d.key] = row[base + s];
      });
      return { ...Object.fromEntries(contactHeader.map((c, i) => [c, row[i] ?? null])), authorizations: row[13] ?? {}, attributes };
    },
  };
}

/** Pages of any keyset-ordered query: `next` gives the query after a row. */
async function* keysetPages<R>(fetch: (after: R | null) => Promise<R[]>, pageSize = PAGE_SIZE): AsyncGenerator<R[]> {
  let after: R | null = null;
  for (;;) {
    const rows = await fetch(after);
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1];
  }
}

async function* mapPages<R>(pages: AsyncIterable<R[]>, row: (r: R) => unknown[]): AsyncGenerator<unknown[][]> {
  for await (const page of pages) yield page.map(row);
}

function projectIdsOf(scope: ExportScope) {
  return (db: Db, institutionId: string) => {
    let q = db.selectFrom('projects').select('projects.id').where('projects.institution_id', '=', institutionId);
    if (scope.type === 'project') q = q.where('projects.id', '=', scope.projectId);
    else if (scope.type === 'organization') q = q.where('projects.organization_id', '=', scope.organizationId);
    else q = q.where(sql<boolean>`1 = 0`);
    return q;
  };
}

function sequenceIdsOf(scope: ExportScope) {
  return (db: Db, institutionId: string) => {
    let q = db.selectFrom('sequences').select('sequences.id').where('sequences.institution_id', '=', institutionId);
    if (scope.type === 'sequence') q = q.where('sequences.id', '=', scope.sequenceId);
    else if (scope.type === 'organization') q = q.where('sequences.organization_id', '=', scope.organizationId);
    else q = q.where(sql<boolean>`1 = 0`);
    return q;
  };
}

/** Projects and their members (the members the viewer may see), for project and team exports. */
export function projectTables(ctx: AppContext, institutionId: string, scope: ExportScope, viewer: Viewer): ExportTable[] {
  if (scope.type !== 'project' && scope.type !== 'organization') return [];
  const ids = projectIdsOf(scope);
  const projects = keysetPages((after: { id: string } | null) => {
    let q = ctx.db
      .selectFrom('projects')
      .select(['id', 'name', 'description', 'owner_user_id', 'organization_id', 'created_at', 'updated_at'])
      .where('id', 'in', ids(ctx.db, institutionId));
    if (after) q = q.where('id', '>', after.id);
    return q.orderBy('id').limit(PAGE_SIZE).execute();
  });
  const members = keysetPages((after: { project_id: string; contact_id: string } | null) => {
    let q = ctx.db
      .selectFrom('project_contacts')
      .innerJoin('contacts', 'contacts.id', 'project_contacts.contact_id')
      .select(['project_contacts.project_id', 'project_contacts.contact_id', 'project_contacts.added_at', 'project_contacts.added_by'])
      .where('project_contacts.project_id', 'in', ids(ctx.db, institutionId))
      .where(visibleTo(viewer));
    if (after) q = q.where((eb) => eb(eb.tuple(eb.ref('project_contacts.project_id'), eb.ref('project_contacts.contact_id')), '>', eb.tuple(after.project_id, after.contact_id)));
    return q.orderBy('project_contacts.project_id').orderBy('project_contacts.contact_id').limit(PAGE_SIZE).execute();
  });
  return [
    {
      name: 'projects',
      columns: ['id', 'name', 'description', 'owner_user_id', 'organization_id', 'created_at', 'updated_at'],
      pages: mapPages(projects, (p) => [p.id, p.name, p.description, p.owner_user_id, p.organization_id, p.created_at, p.updated_at]),
    },
    {
      name: 'project_contacts',
      columns: ['project_id', 'contact_id', 'added_at', 'added_by'],
      pages: mapPages(members, (m) => [m.project_id, m.contact_id, m.added_at, m.added_by]),
    },
  ];
}

/** Sequences with their steps, enrollments (of contacts the viewer may see) and each step's status. */
export function sequenceTables(ctx: AppContext, institutionId: string, scope: ExportScope, viewer: Viewer): ExportTable[] {
  if (scope.type !== 'sequence' && scope.type !== 'organization') return [];
  const ids = sequenceIdsOf(scope);
  const sequences = keysetPages((after: { id: string } | null) => {
    let q = ctx.db
      .selectFrom('sequences')
      .select(['id', 'name', 'status', 'owner_user_id', 'organization_id', 'created_at', 'updated_at'])
      .where('id', 'in', ids(ctx.db, institutionId));
    if (after) q = q.where('id', '>', after.id);
    return q.orderBy('id').limit(PAGE_SIZE).execute();
  });
  const steps = keysetPages((after: { sequence_id: string; position: number } | null) => {
    let q = ctx.db.selectFrom('sequence_steps').select(['sequence_id', 'position', 'subject', 'body', 'delay_days']).where('sequence_id', 'in', ids(ctx.db, institutionId));
    if (after) q = q.where((eb) => eb(eb.tuple(eb.ref('sequence_id'), eb.ref('position')), '>', eb.tuple(after.sequence_id, after.position)));
    return q.orderBy('sequence_id').orderBy('position').limit(PAGE_SIZE).execute();
  });
  const visibleEnrollments = (db: Db) =>
    db
      .selectFrom('sequence_enrollments')
      .innerJoin('contacts', 'contacts.id', 'sequence_enrollments.contact_id')
      .where('sequence_enrollments.sequence_id', 'in', ids(db, institutionId))
      .where(visibleTo(viewer));
  const enrollments = keysetPages((after: { id: string } | null) => {
    let q = visibleEnrollments(ctx.db).select([
      'sequence_enrollments.id',
      'sequence_enrollments.sequence_id',
      'sequence_enrollments.contact_id',
      'sequence_enrollments.status',
      'sequence_enrollments.enrolled_at',
      'sequence_enrollments.updated_at',
    ]);
    if (after) q = q.where('sequence_enrollments.id', '>', after.id);
    return q.orderBy('sequence_enrollments.id').limit(PAGE_SIZE).execute();
  });
  const statuses = keysetPages((after: { enrollment_id: string; position: number } | null) => {
    let q = ctx.db
      .selectFrom('sequence_step_statuses as s')
      .innerJoin('sequence_steps as st', 'st.id', 's.step_id')
      .select(['s.enrollment_id', 'st.sequence_id', 'st.position', 's.status', 's.updated_at'])
      .where('s.enrollment_id', 'in', visibleEnrollments(ctx.db).select('sequence_enrollments.id'));
    if (after) q = q.where((eb) => eb(eb.tuple(eb.ref('s.enrollment_id'), eb.ref('st.position')), '>', eb.tuple(after.enrollment_id, after.position)));
    return q.orderBy('s.enrollment_id').orderBy('st.position').limit(PAGE_SIZE).execute();
  });
  return [
    {
      name: 'sequences',
      columns: ['id', 'name', 'status', 'owner_user_id', 'organization_id', 'created_at', 'updated_at'],
      pages: mapPages(sequences, (s) => [s.id, s.name, s.status, s.owner_user_id, s.organization_id, s.created_at, s.updated_at]),
    },
    {
      name: 'sequence_steps',
      columns: ['sequence_id', 'position', 'subject', 'body', 'delay_days'],
      pages: mapPages(steps, (s) => [s.sequence_id, s.position, s.subject, s.body, s.delay_days]),
    },
    {
      name: 'sequence_enrollments',
      columns: ['id', 'sequence_id', 'contact_id', 'status', 'enrolled_at', 'updated_at'],
      pages: mapPages(enrollments, (e) => [e.id, e.sequence_id, e.contact_id, e.status, e.enrolled_at, e.updated_at]),
    },
    {
      name: 'sequence_step_statuses',
      columns: ['enrollment_id', 'sequence_id', 'step_position', 'status', 'updated_at'],
      pages: mapPages(statuses, (s) => [s.enrollment_id, s.sequence_id, s.position, s.status, s.updated_at]),
    },
  ];
}
