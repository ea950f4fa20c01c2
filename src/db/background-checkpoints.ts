import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * WAL checkpoints for a serving process, on a connection of their own in a worker thread.
 *
 * With SQLite's automatic checkpoints the commit that crosses the threshold copies the WAL into
 * the database file and syncs it, on the thread that serves requests: every request that arrives
 * meanwhile waits (tens of milliseconds, the whole p99 of the public apply endpoint). Here the
 * serving connection's automatic checkpoints are off and a PASSIVE checkpoint runs every
 * `everyMs` on the other thread: it never takes the write lock, so requests do not wait for it,
 * and the WAL is recycled as before. If the thread stops, the serving connection checkpoints for
 * itself again.
 */
const threadSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    // Busy or locked: the next round tries again.
  }
};
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

export interface CheckpointSwitch {
  /** automatic checkpoints of the serving connection: 0 while the thread does them */
  setAutomatic(pages: number): void;
}

export function checkpointInBackground(file: string, connection: CheckpointSwitch, automaticPages: number, everyMs = 200): () => Promise<void> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(threadSource, { eval: true, workerData: { driver, file, everyMs }, resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 } });
  worker.unref();
  connection.setAutomatic(0);
  let stopped = false;
  const fallBack = () => {
    if (!stopped) connection.setAutomatic(automaticPages);
    stopped = true;
  };
  worker.on('error', fallBack);
  worker.on('exit', fallBack);
  return async () => {
    if (stopped) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    // Unreferenced while it runs (it must not keep a process alive); waited for while it stops.
    worker.ref();
    worker.postMessage('stop');
    await exited;
  };
}
