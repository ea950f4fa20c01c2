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
// [frames in the WAL, frames of them copied into the database file], as of the last checkpoint
const wal = new Int32Array(workerData.wal);
let lastLog = -1;
let quietSince = Date.now();
const finish = () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
};
const checkpoint = () => {
  try {
    const [{ log, checkpointed }] = db.pragma('wal_checkpoint(PASSIVE)');
    Atomics.store(wal, 0, log);
    Atomics.store(wal, 1, checkpointed);
    if (log !== lastLog || checkpointed !== log) quietSince = Date.now();
    lastLog = log;
  } catch (error) {
    // Busy or locked: the next round tries again.
  }
};
const timer = setInterval(() => {
  checkpoint();
  if (Date.now() - quietSince >= workerData.idleMs) finish();
}, workerData.everyMs);
parentPort.on('message', (message) => {
  if (message === 'stop') return finish();
  checkpoint();
  if (message === 'now') parentPort.postMessage('checkpointed');
});
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
 * and the copy into the database file is left to the end, on the job's thread. Checkpointing every
 * `everyMs` on a second core copies the pages while the job writes the next chunk.
 *
 * That alone does not keep the WAL small. SQLite writes a transaction at the WAL's beginning again
 * only when, as the transaction began, every frame had been copied; a job that begins its next
 * chunk right after a commit never finds it so, and the WAL grows through the whole job, each
 * commit extending the file into new blocks the kernel allocates and zeroes (most of a commit's
 * time in `perf`: 1.1 s of a 100,000-contact bulk update). So between two chunks the job calls
 * `betweenTransactions`: once the WAL holds `restartFrames` frames, it waits for the thread to
 * copy the rest (~10 ms for a chunk's thousand pages), and the next chunk overwrites the WAL's
 * first pages, which are still in memory (32,768 frames, 128 MB: about once every 30 chunks of a
 * bulk update; every 8 chunks measured the same within noise). Below that size it asks the thread
 * to copy the commit just made at once: the copy then overlaps the next chunk's reads rather than
 * its sealing, which needs the same core (bulk update 5.03–5.26 s → 4.50–5.01 s per 100,000
 * contacts). The job's own automatic checkpoints stay on as a safety net should the thread fall
 * behind or fail.
 */
export interface CheckpointsAlongside {
  stop(): Promise<void>;
  /** Between two transactions: copies the last commit now, and lets the next transaction write the WAL from its beginning when it has grown large (see above). */
  betweenTransactions(): Promise<void>;
}

export function checkpointAlongside(file: string, { everyMs = 25, restartFrames = 32_768 } = {}): CheckpointsAlongside {
  const shared = new SharedArrayBuffer(8);
  const wal = new Int32Array(shared);
  const worker = checkpointThread(file, everyMs, Number.POSITIVE_INFINITY, shared);
  let ended = false;
  worker.on('error', () => (ended = true));
  worker.on('exit', () => (ended = true));
  // When a reader in another process keeps frames from being copied, the WAL cannot restart:
  // wait again only once it has grown by another `restartFrames`, not before every chunk.
  let waitFrom = restartFrames;
  return {
    stop: async () => (ended ? undefined : stopThread(worker)),
    async betweenTransactions() {
      const log = Atomics.load(wal, 0);
      if (log < restartFrames) waitFrom = restartFrames;
      if (ended) return;
      if (log < waitFrom) {
        // Copy the commit just made now, while the next chunk reads and decides, rather than
        // later, when the job's sealing thread needs the other core.
        worker.postMessage('soon');
        return;
      }
      worker.ref();
      try {
        await new Promise<void>((resolve) => {
          const done = () => {
            worker.off('message', done);
            worker.off('exit', done);
            resolve();
          };
          worker.on('message', done);
          worker.on('exit', done);
          worker.postMessage('now');
        });
      } finally {
        if (!ended) worker.unref();
      }
      const [frames, copied] = [Atomics.load(wal, 0), Atomics.load(wal, 1)];
      waitFrom = frames === copied ? restartFrames : frames + restartFrames;
      // The next transaction restarts the WAL; the thread reports the new size at its next round.
      if (frames === copied) Atomics.store(wal, 0, 0);
    },
  };
}

function checkpointThread(file: string, everyMs: number, idleMs: number, wal = new SharedArrayBuffer(8)): Worker {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(threadSource, {
    eval: true,
    workerData: { driver, file, everyMs, idleMs, wal },
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
