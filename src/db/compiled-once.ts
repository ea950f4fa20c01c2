import { sql, type Compilable, type CompiledQuery, type Insertable, type InsertQueryBuilder, type InsertResult, type QueryResult, type Selectable } from 'kysely';
import { engineOf } from './engine.ts';
import type { Db } from '../context.ts';
import type { Database } from './schema.ts';

/** Stands in for one named value while the query is built; replaced by that value on each run. */
class Slot {
  constructor(readonly name: string) {}
}

export interface CompiledOnce<P extends Record<string, unknown>, R> {
  /** rows, and for writes `numAffectedRows` */
  execute(db: Db, values: P): Promise<QueryResult<R>>;
  executeTakeFirst(db: Db, values: P): Promise<R | undefined>;
}

/**
 * A query whose shape never changes, built with Kysely (so its tables, columns and result type
 * stay checked) and compiled to SQL once per dialect; each run only binds new values. Kysely
 * otherwise builds an operation tree and compiles it on every call, which for the small writes
 * every request makes (audit entries, data keys, activity) costs about as much CPU as SQLite
 * running the statement.
 *
 * `build` reads its values from `p` and must use each only as a value (in `values`, `set` or a
 * comparison), never inspect it: it runs once, with placeholders, not per call.
 */
export function compiledOnce<P extends Record<string, unknown>, R>(build: (db: Db, p: P) => Compilable<R>): CompiledOnce<P, R> {
  const placeholders = new Proxy({}, { get: (_target, name) => new Slot(String(name)) }) as P;
  // Per dialect: a transaction shares its database's adapter, so this holds one entry per store.
  const compiled = new WeakMap<object, CompiledQuery<R>>();
  const bind = (db: Db, values: P): CompiledQuery<R> => {
    const adapter = db.getExecutor().adapter;
    let query = compiled.get(adapter);
    if (!query) {
      query = build(db, placeholders).compile();
      compiled.set(adapter, query);
    }
    const parameters = query.parameters.map((p) => {
      if (!(p instanceof Slot)) return p;
      const value = values[p.name];
      if (value === undefined) throw new Error(`compiledOnce: no value for "${p.name}"`);
      return value;
    });
    return { ...query, parameters };
  };
  return {
    execute: (db, values) => db.executeQuery(bind(db, values)),
    async executeTakeFirst(db, values) {
      return (await db.executeQuery(bind(db, values))).rows[0];
    },
  };
}

/**
 * Inserts one row through an INSERT compiled once per table, column list and dialect: the row's
 * keys are the columns and its values, in the same order, the parameters. For hot single-row
 * inserts whose rows are built the same way every time.
 */
export async function insertRow<T extends keyof Database & string>(db: Db, table: T, row: Insertable<Database[T]>): Promise<void> {
  await insertRows(db, table, [row]);
}

/**
 * Rows per statement. Statement shapes are kept few: SQLite prepares (and the store caches) one
 * statement per SQL text, and a multi-row insert of every possible length would fill that cache
 * with hundreds of large statements. So rows go BATCH at a time, then in powers of two.
 */
const BATCH = 256;

export function batchSizes(n: number): number[] {
  const sizes: number[] = [];
  let left = n;
  while (left >= BATCH) {
    sizes.push(BATCH);
    left -= BATCH;
  }
  for (let p = BATCH >> 1; p >= 1; p >>= 1) {
    if (left >= p) {
      sizes.push(p);
      left -= p;
    }
  }
  return sizes;
}

/** What to do when a row collides with a stored one; `name` tells conflict clauses apart (it is part of the compiled statement's key). */
export interface OnConflict<T extends keyof Database & string> {
  name: string;
  clause(insert: InsertQueryBuilder<Database, T, InsertResult>): InsertQueryBuilder<Database, T, InsertResult>;
}

/**
 * Inserts rows of one shape (the same keys in the same order) with multi-row INSERTs compiled
 * once per table, column list, row count and dialect, in batches (batchSizes). Building a
 * multi-row insert parses every value into Kysely's operation tree: for the chunks bulk jobs write
 * (thousands of activity events and audit entries) that cost more CPU than SQLite inserting them.
 * `returning` names one column to read back from each inserted row, in insert order; on SQLite,
 * `insertId` is the last inserted row's rowid without that cost. Rows of other shapes are built as usual.
 */
export async function insertRows<T extends keyof Database & string, C extends keyof Selectable<Database[T]> & string = never>(
  db: Db,
  table: T,
  rows: Insertable<Database[T]>[],
  returning?: C,
): Promise<QueryResult<Pick<Selectable<Database[T]>, C>>> {
  return writeRows(db, table, rows, returning, undefined);
}

/**
 * insertRows (with `onConflict`, upsertRows) for rows that mostly differ in one column only: a bulk
 * job's activity events, recency and attribute values are the same for hundreds of contacts but
 * for the contact's id. On SQLite, each group of at least FAN_OUT_MIN rows that share every other
 * value is written by one statement that fans the group's ids out of a JSON array (`insert …
 * select … from json_each(?)`) instead of binding every row's values: for a bulk chunk's activity
 * events that halves SQLite's time (0.9 → 0.45 s per 300,000 rows in a bare script). Rows go in
 * group order (a group in the order its rows came), the other rows after them, as insertRows writes
 * them. PostgreSQL cannot type a bound value in a SELECT list by its target column, so there every
 * row goes through insertRows.
 */
export async function fanOutRows<T extends keyof Database & string>(
  db: Db,
  table: T,
  rows: Insertable<Database[T]>[],
  column: keyof Insertable<Database[T]> & string,
  onConflict?: OnConflict<T>,
): Promise<void> {
  if (rows.length < 2 * FAN_OUT_MIN || engineOf(db) !== 'sqlite') {
    await writeRows(db, table, rows, undefined, onConflict);
    return;
  }
  const columns = Object.keys(rows[0]);
  const fannedAt = columns.indexOf(column);
  type Group = { values: unknown[]; fanned: unknown[]; rows: Insertable<Database[T]>[] };
  const groups = new Map<string, Group>();
  // Rows come in a repeating pattern (each contact's few events in turn): comparing a row with the
  // groups found last is cheaper than building its key.
  const recent: Group[] = [];
  const sameGroup = (group: Group, record: Record<string, unknown>) => {
    for (let c = 0; c < columns.length; c++) if (c !== fannedAt && group.values[c] !== record[columns[c]]) return false;
    return true;
  };
  const rest: Insertable<Database[T]>[] = [];
  rows: for (const row of rows) {
    const record = row as Record<string, unknown>;
    for (const group of recent) {
      if (sameGroup(group, record) && Object.keys(record).length === columns.length && isJsonScalar(record[column])) {
        group.fanned.push(record[column]);
        group.rows.push(row);
        continue rows;
      }
    }
    // The group's key: every other value with its type (null, "1" and 1 apart) and a string's length
    // (so no value can pass for two), built without allocating per value.
    let key = '';
    let groupable = Object.keys(record).length === columns.length && isJsonScalar(record[column]);
    for (let c = 0; c < columns.length && groupable; c++) {
      if (c === fannedAt) continue;
      const value = record[columns[c]];
      if (value === null) key += 'n';
      else if (typeof value === 'string') key += `s${value.length}:${value}`;
      else if (typeof value === 'number' && Number.isFinite(value)) key += `d${value};`;
      else groupable = false;
    }
    if (!groupable) {
      rest.push(row);
      continue;
    }
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { values: columns.map((c) => record[c]), fanned: [], rows: [] }));
    group.fanned.push(record[column]);
    group.rows.push(row);
    if (!recent.includes(group)) {
      recent.unshift(group);
      if (recent.length > RECENT_GROUPS) recent.pop();
    }
  }
  for (const group of groups.values()) {
    if (group.rows.length < FAN_OUT_MIN) {
      rest.push(...group.rows);
      continue;
    }
    const query = fanOutStatement(db, table, columns, column, onConflict);
    const parameters = query.parameters.map((p) => (p instanceof Slot ? (p.name === FANNED ? JSON.stringify(group.fanned) : group.values[columns.indexOf(p.name)]) : p));
    await db.executeQuery({ ...query, parameters });
  }
  await writeRows(db, table, rest, undefined, onConflict);
}
const FAN_OUT_MIN = 32;
const RECENT_GROUPS = 8;
const FANNED = '\0fanned';

function fanOutStatement<T extends keyof Database & string>(db: Db, table: T, columns: string[], column: string, onConflict: OnConflict<T> | undefined): CompiledQuery {
  const shape = `fan-out ${table}(${columns.join(',')})←${column}${onConflict ? `!${onConflict.name}` : ''}`;
  const byShape = shapesOf(db);
  const cached = byShape.get(shape);
  if (cached) return cached;
  const select = db
    .selectFrom(sql`json_each(${new Slot(FANNED)})`.as('fanned'))
    .select(columns.map((c) => (c === column ? sql.ref('fanned.value') : sql`${new Slot(c)}`).as(c)))
    // SQLite reads "ON CONFLICT" after a bare FROM as a join constraint; a WHERE clause ends the SELECT.
    .where(sql<boolean>`true`);
  let q = db.insertInto(table).columns(columns as never).expression(select as never) as unknown as InsertQueryBuilder<Database, T, InsertResult>;
  if (onConflict) q = onConflict.clause(q);
  const query = q.compile() as CompiledQuery;
  // As in writeRows: a conflict clause that binds values of its own is compiled again each time.
  if (byShape.size < MAX_SHAPES && query.parameters.every((p) => p instanceof Slot)) byShape.set(shape, query);
  return query;
}

/** A value json_each gives back as it was: a string or a finite number. */
function isJsonScalar(value: unknown): boolean {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

function shapesOf(db: Db): Map<string, CompiledQuery> {
  const adapter = db.getExecutor().adapter;
  let byShape = compiledInserts.get(adapter);
  if (!byShape) compiledInserts.set(adapter, (byShape = new Map()));
  return byShape;
}

async function writeRows<T extends keyof Database & string, C extends keyof Selectable<Database[T]> & string>(
  db: Db,
  table: T,
  rows: Insertable<Database[T]>[],
  returning: C | undefined,
  onConflict: OnConflict<T> | undefined,
): Promise<QueryResult<Pick<Selectable<Database[T]>, C>>> {
  type Result = QueryResult<Pick<Selectable<Database[T]>, C>>;
  if (rows.length === 0) return { rows: [] };
  const columns = Object.keys(rows[0]);
  const values = rows.map((row) => Object.values(row));
  // Kysely leaves undefined columns out and inlines SQL expressions, so such rows make another statement: built as usual.
  const sameShape = rows.every(
    (row, i) => values[i].length === columns.length && values[i].every(isBindable) && (i === 0 || Object.keys(row).every((k, c) => k === columns[c])),
  );
  const byShape = shapesOf(db);
  const out: unknown[] = [];
  let numAffectedRows = 0n;
  // SQLite: the last row's rowid (for an integer primary key, its key), as its driver reports it.
  let insertId: bigint | undefined;
  let at = 0;
  for (const size of batchSizes(rows.length)) {
    const from = at;
    at += size;
    const shape = sameShape ? `${table}(${columns.join(',')})×${size}${returning ? `→${returning}` : ''}${onConflict ? `!${onConflict.name}` : ''}` : null;
    const cached = shape ? byShape.get(shape) : undefined;
    let query: CompiledQuery;
    if (cached) {
      const parameters: unknown[] = [];
      for (let r = from; r < at; r++) for (const value of values[r]) parameters.push(value);
      query = { ...cached, parameters };
    } else {
      let q = db.insertInto(table).values(rows.slice(from, at) as never) as unknown as InsertQueryBuilder<Database, T, InsertResult>;
      if (onConflict) q = onConflict.clause(q);
      query = (returning ? q.returning(returning as never) : q).compile() as CompiledQuery;
      // Only a statement whose parameters are exactly the rows' values can be re-bound (a conflict clause may bind values of its own).
      if (shape && byShape.size < MAX_SHAPES && query.parameters.length === size * columns.length) byShape.set(shape, query);
    }
    const written = await db.executeQuery(query);
    out.push(...written.rows);
    numAffectedRows += written.numAffectedRows ?? 0n;
    insertId = written.insertId;
  }
  return { rows: out, numAffectedRows, insertId } as Result;
}
const MAX_SHAPES = 200;
const compiledInserts = new WeakMap<object, Map<string, CompiledQuery>>();

/** A value that becomes exactly one parameter of the statement. */
function isBindable(value: unknown): boolean {
  return value === null || (value !== undefined && typeof value !== 'object' && typeof value !== 'function') || value instanceof Uint8Array || value instanceof Date;
}
