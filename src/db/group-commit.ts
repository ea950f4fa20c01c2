import type SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  SelectQueryNode,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely';

/**
 * On SQLite the COMMIT is the dearest statement of a small write: it appends every page the
 * transaction dirtied to the WAL. When transactions queue up behind one another for the single
 * connection, they are folded into one SQLite transaction instead: each runs inside its own
 * savepoint (its failure rolls back only its own work), and one COMMIT closes the group as soon as
 * nobody is waiting or the group is full.
 *
 * Nothing is acknowledged before it is durable: whoever used the connection while a group was open
 * — a transaction, or a plain query that could have read the group's writes — gets its answer only
 * after the group's COMMIT, and the error if that COMMIT fails.
 */
export const MAX_GROUP = 64;
/** A group is closed after this long even when work keeps queuing, so that steady traffic cannot hold its members' answers back. */
export const MAX_GROUP_MS = 10;
const SAVEPOINT = 'lethe_tx';

interface Member {
  resolve(): void;
  reject(error: unknown): void;
}

interface Group {
  members: Member[];
  openedAt: number;
}

export class GroupCommitDriver implements Driver {
  readonly #statements: { prepare(sql: string): SQLite.Statement };
  readonly #raw: SQLite.Database;
  readonly #connection: DatabaseConnection;
  #held = false;
  readonly #waiting: Array<() => void> = [];
  #group: Group | null = null;
  #holderIsMember = false;
  #commitScheduled = false;
  /** COMMITs issued so far (folded groups show as fewer commits than transactions). */
  commits = 0;

  constructor(raw: SQLite.Database, statements: { prepare(sql: string): SQLite.Statement }) {
    this.#raw = raw;
    this.#statements = statements;
    this.#connection = connectionOver(statements);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.#held) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#held = true;
    this.#holderIsMember = this.#group !== null;
    return this.#connection;
  }

  async beginTransaction(): Promise<void> {
    if (!this.#group) {
      // IMMEDIATE: a group holds the write lock from its start, so another process's writer waits
      // (busy_timeout) instead of a read-then-write upgrade failing half-way.
      this.#run('begin immediate');
      this.#group = { members: [], openedAt: performance.now() };
    }
    this.#holderIsMember = true;
    this.#run(`savepoint ${SAVEPOINT}`);
  }

  async commitTransaction(): Promise<void> {
    this.#run(`release ${SAVEPOINT}`);
  }

  async rollbackTransaction(): Promise<void> {
    if (this.#raw.inTransaction) {
      this.#run(`rollback to ${SAVEPOINT}`);
      this.#run(`release ${SAVEPOINT}`);
      return;
    }
    // SQLite itself rolled the whole transaction back (a full disk, an I/O error): the group's
    // earlier members lost their work too.
    this.#failGroup(new Error('The database rolled back a group of transactions after an error; retry the request.'));
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint "${name}"`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to "${name}"`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release "${name}"`));
  }

  async releaseConnection(): Promise<void> {
    let durable: Promise<void> | undefined;
    const group = this.#group;
    if (group && this.#holderIsMember) durable = new Promise<void>((resolve, reject) => group.members.push({ resolve, reject }));
    this.#holderIsMember = false;
    if (group && (group.members.length >= MAX_GROUP || performance.now() - group.openedAt >= MAX_GROUP_MS)) this.#commitGroup();
    const next = this.#waiting.shift();
    if (next) next();
    else {
      this.#held = false;
      if (this.#group) this.#commitSoon();
    }
    await durable;
  }

  /** Runs `work` on the raw connection with no group open (checkpoints cannot run inside a transaction). */
  async outsideTransaction<T>(work: (raw: SQLite.Database) => T): Promise<T> {
    await this.acquireConnection();
    try {
      if (this.#group) this.#commitGroup();
      return work(this.#raw);
    } finally {
      this.#holderIsMember = false;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#held = false;
    }
  }

  async destroy(): Promise<void> {
    if (this.#group) this.#commitGroup();
    this.#raw.close();
  }

  /**
   * Requests whose input has already arrived run in this turn of the event loop; letting them join
   * first costs one turn of latency and saves them a COMMIT each.
   */
  #commitSoon(): void {
    if (this.#commitScheduled) return;
    this.#commitScheduled = true;
    setImmediate(() => {
      this.#commitScheduled = false;
      if (this.#group && !this.#held) this.#commitGroup();
    });
  }

  #commitGroup(): void {
    const group = this.#group!;
    this.#group = null;
    this.commits++;
    try {
      this.#run('commit');
    } catch (error) {
      if (this.#raw.inTransaction) this.#run('rollback');
      for (const m of group.members) m.reject(error);
      return;
    }
    for (const m of group.members) m.resolve();
  }

  #failGroup(error: Error): void {
    const group = this.#group;
    this.#group = null;
    for (const m of group?.members ?? []) m.reject(error);
  }

  #run(statement: string): void {
    this.#statements.prepare(statement).run();
  }
}

function connectionOver(statements: { prepare(sql: string): SQLite.Statement }): DatabaseConnection {
  return {
    async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      const statement = statements.prepare(query.sql);
      const parameters = query.parameters as unknown[];
      if (statement.reader) return { rows: statement.all(parameters) as R[] };
      const { changes, lastInsertRowid } = statement.run(parameters);
      return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
    },
    async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
      if (!SelectQueryNode.is(query.query)) throw new Error('SQLite streams only select queries');
      for (const row of statements.prepare(query.sql).iterate(query.parameters as unknown[])) yield { rows: [row as R] };
    },
  };
}

export function groupCommitDialect(driver: GroupCommitDriver): Dialect {
  return {
    createDriver: () => driver,
    createQueryCompiler: () => new SqliteQueryCompiler(),
    createAdapter: () => new SqliteAdapter(),
    createIntrospector: (db: Kysely<unknown>) => new SqliteIntrospector(db),
  };
}
