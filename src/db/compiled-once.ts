import type { Compilable, CompiledQuery, Insertable, QueryResult, Selectable } from 'kysely';
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
 * Inserts rows of one shape (the same keys in the same order) with one multi-row INSERT compiled
 * once per table, column list, row count and dialect. Building a multi-row insert parses every
 * value into Kysely's operation tree: for the chunks bulk jobs write (hundreds of activity events
 * and audit entries per statement) that cost more CPU than SQLite inserting them. `returning`
 * names one column to read back from each inserted row. Rows of other shapes are built as usual.
 */
export async function insertRows<T extends keyof Database & string, C extends keyof Selectable<Database[T]> & string = never>(
  db: Db,
  table: T,
  rows: Insertable<Database[T]>[],
  returning?: C,
): Promise<QueryResult<Pick<Selectable<Database[T]>, C>>> {
  if (rows.length === 0) return { rows: [] };
  const columns = Object.keys(rows[0]);
  const shape = `${table}(${columns.join(',')})×${rows.length}${returning ? `→${returning}` : ''}`;
  const parameters: unknown[] = [];
  for (const row of rows) {
    const values = Object.values(row);
    if (values.length !== columns.length || !values.every(isBindable) || (row !== rows[0] && Object.keys(row).some((k, i) => k !== columns[i]))) {
      // Kysely leaves undefined columns out and inlines SQL expressions, so the statement differs: built as usual.
      const q = db.insertInto(table).values(rows as never);
      return (returning ? q.returning(returning as never) : q).execute().then((r) => ({ rows: r as never }));
    }
    parameters.push(...values);
  }
  const adapter = db.getExecutor().adapter;
  let byShape = compiledInserts.get(adapter);
  if (!byShape) compiledInserts.set(adapter, (byShape = new Map()));
  let query = byShape.get(shape);
  if (!query) {
    const q = db.insertInto(table).values(rows as never);
    query = (returning ? q.returning(returning as never) : q).compile() as CompiledQuery;
    // Row counts vary with the data: only so many shapes are kept, the rest compile per call.
    if (byShape.size < MAX_SHAPES) byShape.set(shape, query);
  }
  return db.executeQuery({ ...query, parameters }) as Promise<QueryResult<Pick<Selectable<Database[T]>, C>>>;
}
const MAX_SHAPES = 200;
const compiledInserts = new WeakMap<object, Map<string, CompiledQuery>>();

/** A value that becomes exactly one parameter of the statement. */
function isBindable(value: unknown): boolean {
  return value === null || (value !== undefined && typeof value !== 'object' && typeof value !== 'function') || value instanceof Uint8Array || value instanceof Date;
}
