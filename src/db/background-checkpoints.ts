import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * WAL checkpoints for a serving process, on a connection of their own in a worker thread.
 *
 * With SQLite's automatic checkpoints the commit that crosses the threshold copies the WAL into
 * the database file and syncs it, on the thread that serves requests: every request that arrives
 * meanwhile waits (tens of milliseconds, the whole p99 of the public apply endpoint). So while the
 * server writes, a thread runs a PASSIVE checkpoint every `everyMs` (it never takes the write
 * lock, so requests do not wait for it) and the serving connection's automatic checkpoints are
 * off. A thread costs ~40 MB of resident memory (which the process keeps after it ends), so it runs
 * only under sustained writing: it starts once the WAL file has been written in `busyPolls`
 * consecutive looks (every `pollMs`; a start-up's or a single request's writes do not start it)
 * and ends after `idleMs` without new WAL frames, when the automatic checkpoints come back. If the
 * thread fails, the serving connection simply checkpoints for itself.
 */
const threadSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
let lastLog = -1;
let quietSince = Date.now();
const finish = () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
};
const timer = setInterval(() => {
  try {
    const [{ log, checkpointed }] = db.pragma('wal_checkpoint(PASSIVE)');
    if (log !== lastLog || checkpointed !== log) quietSince = Date.now();
    lastLog = log;
  } catch (error) {
    // Busy or locked: the next round tries again.
  }
  if (Date.now() - quietSince >= workerData.idleMs) finish();
}, workerData.everyMs);
parentPort.on('message', finish);
`;

export interface CheckpointSwitch {
  /** automatic checkpoints of the serving connection: 0 while the thread does them */
  setAutomatic(pages: number): void;
}

export interface CheckpointTiming {
  everyMs: number;
  idleMs: number;
  pollMs: number;
  busyPolls: number;
}

const defaultTiming: CheckpointTiming = { everyMs: 200, idleMs: 10_000, pollMs: 1_000, busyPolls: 2 };

export function checkpointInBackground(
  file: string,
  connection: CheckpointSwitch,
  automaticPages: number,
  timing: CheckpointTiming = defaultTiming,
): { stop(): Promise<void>; running(): boolean } {
  const wal = `${file}-wal`;
  let thread: Worker | null = null;
  let lastWrite = walWrittenAt(wal);
  let writtenPolls = 0;
  let stopped = false;

  const start = () => {
    const worker = checkpointThread(file, timing.everyMs, timing.idleMs);
    thread = worker;
    connection.setAutomatic(0);
    const ended = () => {
      if (thread !== worker) return;
      thread = null;
      connection.setAutomatic(automaticPages);
    };
    worker.on('error', ended);
    worker.on('exit', ended);
  };

  const poll = setInterval(() => {
    const written = walWrittenAt(wal);
    writtenPolls = written !== lastWrite ? writtenPolls + 1 : 0;
    lastWrite = written;
    if (writtenPolls >= timing.busyPolls && !thread && !stopped) start();
  }, timing.pollMs);
  poll.unref();

  return {
    running: () => thread !== null,
    async stop() {
      stopped = true;
      clearInterval(poll);
      if (thread) await stopThread(thread);
    },
  };
}

/**
 * Checkpoints for a bulk job (bulk lifecycle actions), from its first chunk until `stop`.
 *
 * A bulk job's commits are most of its time, and most of a commit is appending its pages to the
 * WAL. With rare automatic checkpoints (bulk-writing.ts) the WAL grows by hundreds of megabytes,
 * each commit extending the file into new blocks the kernel must allocate and zero, and the copy
 * into the database file is left to the end, on the job's thread. Checkpointing every `everyMs`
 * on a second core copies the pages while the job writes the next chunk, and lets the WAL restart
 * from its beginning at the next transaction, so commits overwrite blocks already there. The
 * job's own automatic checkpoints stay on as a safety net should the thread fall behind or fail.
 */
export function checkpointAlongside(file: string, everyMs = 25): { stop(): Promise<void> } {
  const worker = checkpointThread(file, everyMs, Number.POSITIVE_INFINITY);
  let ended = false;
  worker.on('error', () => (ended = true));
  worker.on('exit', () => (ended = true));
  return { stop: async () => (ended ? undefined : stopThread(worker)) };
}

function checkpointThread(file: string, everyMs: number, idleMs: number): Worker {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(threadSource, {
    eval: true,
    workerData: { driver, file, everyMs, idleMs },
    resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 },
  });
  // Unreferenced while it runs (it must not keep a process alive); waited for while it stops.
  worker.unref();
  return worker;
}

async function stopThread(worker: Worker): Promise<void> {
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  worker.ref();
  worker.postMessage('stop');
  await exited;
}

function walWrittenAt(wal: string): number {
  try {
    return fs.statSync(wal).mtimeMs;
  } catch {
    return 0;
  }
}
