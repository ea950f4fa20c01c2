import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { CompiledQuery } from 'kysely';

/**
 * A read-only SQLite connection on its own thread, for an export's page queries. Reading a page
 * (index probes for each contact's attributes) costs more CPU than writing it out, and
 * better-sqlite3 runs on the thread that calls it: on the request thread the two would take turns.
 * Here the next page is read while the current one is turned into CSV, on the machine's other core.
 *
 * The thread only runs SQL it is given: the queries (tenant, scope, visibility) are built and
 * compiled by the caller exactly as for the shared connection. Pages read within one second share
 * a read transaction, which ends at the latest a second after it began or as soon as no page is
 * asked for, so checkpoints and erasure are held back no longer than that. Why share at all: a
 * read transaction that finds the database changed since the last one drops the connection's
 * whole page cache, and with a page per transaction every commit elsewhere (the job's own
 * progress, every write of a busy server) cost the next page a cold cache: ~45 ms per commit over
 * a 1,000,000-contact export, which took 15 s instead of 10 with progress noted every 10,000 rows. The thread's code is a string, not a module, so the server's bundle needs no second
 * entry point; it loads the same better-sqlite3 the process uses. SQLite's default page cache (2 MB)
 * is kept: pages are read once, in storage order, and the attribute look-ups are too scattered to
 * gain from a larger one.
 *
 * A page crosses as JSON text that SQLite itself wrote (the select's one column is each row as a
 * JSON array): JSON.parse rebuilds rows three to four times faster than the structured clone
 * would, and writing the text in SQL costs less than JSON.stringify of the row in JavaScript, with
 * the nested attribute arrays arriving parsed rather than as strings to parse a second time.
 */
const threadSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
const statements = new Map();
let snapshotSince = 0;
let snapshotEnd = null;
const endSnapshot = () => {
  clearTimeout(snapshotEnd);
  snapshotEnd = null;
  if (db.inTransaction) db.exec('commit');
};
parentPort.on('message', ({ id, sql, parameters }) => {
  try {
    if (db.inTransaction && Date.now() - snapshotSince >= workerData.snapshotMs) endSnapshot();
    if (!db.inTransaction) {
      db.exec('begin');
      snapshotSince = Date.now();
    }
    clearTimeout(snapshotEnd);
    snapshotEnd = setTimeout(endSnapshot, workerData.snapshotMs);
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      if (statement.columns().length !== 1) throw new Error('an export page query selects one column: each row as JSON text');
      statement.pluck(true);
      statements.set(sql, statement);
    }
    const rows = statement.all(parameters);
    const batches = [];
    for (let i = 0; i < rows.length; i += workerData.rowsPerBatch) batches.push('[' + rows.slice(i, i + workerData.rowsPerBatch).join(',') + ']');
    parentPort.postMessage({ id, batches });
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
`;

/**
 * The reader's heap: a page's rows and their JSON are short-lived, and a small young generation
 * keeps each thread's memory low (the default let two readers add ~50 MB to the export's peak RSS).
 * The old generation's ceiling leaves room for the widest range (8,000 rows).
 */
const READER_HEAP = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 };

/**
 * A page as it crossed: JSON arrays of rows, parsed only when the caller takes the page (pages
 * read ahead wait as strings, not as thousands of objects). A batch of rows per string: each
 * string crossing costs an allocation on the receiving side (one per row was ~0.9 s of the
 * request thread over a million rows), while a string over 128 KB lands in V8's large-object
 * space, which only a full collection frees (a page's worth of those grew the heap by ~50 MB
 * between collections). Rows of an export are ~300 bytes, so 100 keep a batch near 30 KB.
 */
export interface RawPage {
  batches: string[];
}

const ROWS_PER_BATCH = 100;
/** How long a reader's read transaction may serve pages (see the comment at the top). */
const SNAPSHOT_MS = 1000;

/** The rows of a page, in order. */
export function pageRows(page: RawPage): unknown[][] {
  const rows: unknown[][] = [];
  for (const batch of page.batches) for (const row of JSON.parse(batch) as unknown[][]) rows.push(row);
  return rows;
}

export class SqlitePageReader {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve(page: RawPage): void; reject(error: Error): void }>();
  #nextId = 0;
  #failure: Error | null = null;

  constructor(file: string) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(threadSource, { eval: true, workerData: { driver, file, rowsPerBatch: ROWS_PER_BATCH, snapshotMs: SNAPSHOT_MS }, resourceLimits: READER_HEAP });
    this.#worker.on('message', (message: { id: number; error?: string } & RawPage) => {
      const waiter = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(message.error));
      else waiter?.resolve(message);
    });
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', (code) => this.#fail(new Error(`the export's reader thread stopped (exit code ${code})`)));
  }

  /** Runs a compiled select of one column, each row as JSON text, on the reader's connection. */
  read(query: Pick<CompiledQuery, 'sql' | 'parameters'>): Promise<RawPage> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise<RawPage>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, sql: query.sql, parameters: query.parameters });
    });
  }

  async close(): Promise<void> {
    this.#failure ??= new Error('the export reader is closed');
    await this.#worker.terminate();
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#pending.values()) waiter.reject(this.#failure);
    this.#pending.clear();
  }
}
