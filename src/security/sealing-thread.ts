import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { open, sealWithIv } from './aead.ts';

/**
 * Sealing for many subjects at once, on a thread of its own.
 *
 * A bulk job or a retention batch writes one audit entry per contact, sealed with that contact's
 * data key: per contact an unwrap of the key with the master key and two AES-GCM seals, about
 * 15 µs of one core, mostly Node's per-cipher set-up. That is a sixth of a bulk update's time, all
 * of it on the thread that also runs SQLite. Handed to a second thread, it runs while the caller
 * writes the chunk's other rows, on the machine's other core.
 *
 * The thread starts with the first large batch and ends after IDLE_MS without work; it never keeps
 * the process alive. Small batches (a single contact's action) are sealed in place, since a message
 * round trip costs more than they do. If the thread fails, the batch is sealed in place.
 */
export const THREAD_MIN_SUBJECTS = 64;
const IDLE_MS = 10_000;

export interface SealRequest {
  subjectId: string;
  /** the subject's data key, wrapped with the master key (aead's format, the subject id as AAD) */
  wrappedKey: string;
  /** plaintexts (JSON) to seal with the subject's key, the subject id as AAD; null stays null */
  values: (string | null)[];
}

// The thread cannot import the project's modules (the CLI runs from a bundle), so it carries the
// two functions of aead.ts it needs; sealing-thread.test.ts proves that each side opens the other's.
const threadSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { createCipheriv, createDecipheriv, randomBytes } = require('node:crypto');
const master = Buffer.from(workerData.master);
function open(key, sealed, aad) {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('not a sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
}
function sealWithIv(key, iv, plaintext, aad) {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}
// Items are claimed one by one from a shared counter: the caller seals whatever is left itself
// when it needs the results, so neither side waits for the other (see Sealing.result).
parentPort.on('message', ({ id, claims, subjects: subjectList, starts, values: valueList }) => {
  try {
    const claimed = new Int32Array(claims);
    const subjects = subjectList.split('\\0');
    const values = valueList.split('\\0');
    const count = subjects.length / 2;
    const ivs = randomBytes(12 * values.length);
    const indices = [];
    const sealed = [];
    for (let i = Atomics.add(claimed, 0, 1); i < count; i = Atomics.add(claimed, 0, 1)) {
      const subjectId = subjects[2 * i];
      const key = open(master, subjects[2 * i + 1], subjectId);
      indices.push(i);
      for (let v = starts[i]; v < starts[i + 1]; v++) sealed.push(values[v] === '' ? '' : sealWithIv(key, ivs.subarray(12 * v, 12 * v + 12), values[v], subjectId));
    }
    parentPort.postMessage({ id, indices: Int32Array.from(indices), sealed: sealed.join('\\0') });
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
`;

interface ThreadPart {
  /** the items the thread sealed, and their values in that order, NUL-separated ('' for null) */
  indices: Int32Array;
  sealed: string;
}

interface Pending {
  resolve(part: ThreadPart): void;
  reject(error: Error): void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
  idle: NodeJS.Timeout | null;
}

// By the master key's Buffer (one per running context): its bytes are never copied into a string.
const threads = new WeakMap<Buffer, Thread>();
let nextId = 0;

/** What the thread refused to seal (a wrapped key that does not open): sealing in place would refuse it too. */
class SealingRefused extends Error {}

export interface Sealing {
  /**
   * Each request's values sealed with its subject's key, in request order. On a thread, the items
   * it has not started yet are sealed here meanwhile, rather than waited for.
   */
  result(): Promise<(string | null)[][]>;
  /** how many requests result() sealed on the caller's thread (diagnostics and tests) */
  sealedHere: number;
}

/** Starts sealing each request's values with its subject's key: on the sealing thread for large batches. */
export function sealForSubjects(masterKey: Buffer, requests: SealRequest[]): Sealing {
  if (requests.length < THREAD_MIN_SUBJECTS || !requests.every(travels)) {
    return {
      sealedHere: requests.length,
      result: async () => sealHere(masterKey, requests, new Array(requests.length), missing),
    };
  }
  const claims = new Int32Array(new SharedArrayBuffer(4));
  let threadPart: Promise<ThreadPart>;
  try {
    threadPart = onThread(masterKey, requests, claims);
  } catch {
    threadPart = Promise.reject(new Error('the sealing thread could not start'));
  }
  // A failure surfaces from result(); until then it must not count as unhandled.
  threadPart.catch(() => {});
  return {
    sealedHere: 0,
    async result() {
      const sealed: (string | null)[][] = new Array(requests.length);
      sealHere(masterKey, requests, sealed, () => unclaimed(claims, requests.length));
      this.sealedHere = sealed.reduce((n) => n + 1, 0);
      // The thread took none (it is still busy with an earlier batch): its answer will be empty.
      if (this.sealedHere === requests.length) return sealed;
      try {
        const part = await threadPart;
        const values = part.sealed.split('\0');
        let next = 0;
        for (const i of part.indices) sealed[i] = requests[i].values.map(() => values[next++] || null);
      } catch (error) {
        if (error instanceof SealingRefused) throw error;
        // The thread itself failed (it could not start, or ended): what it had taken is sealed here.
        this.sealedHere = requests.length;
        sealHere(masterKey, requests, sealed, missing);
      }
      return sealed;
    },
  };
}

/** Whether a request can go to the thread in its NUL-separated form (see onThread): JSON values always can. */
const travels = (r: SealRequest) => !r.subjectId.includes('\0') && !r.wrappedKey.includes('\0') && r.values.every((v) => v === null || (v !== '' && !v.includes('\0')));

/** Whether a sealing thread for this master key is up (tests). */
export function sealingThreadRunning(masterKey: Buffer): boolean {
  return threads.has(masterKey);
}

/** Seals, into `sealed`, the requests whose indices `which` yields (in increasing order). */
function sealHere(masterKey: Buffer, requests: SealRequest[], sealed: (string | null)[][], which: (sealed: unknown[]) => Iterable<number>): (string | null)[][] {
  let ivs: Buffer | null = null;
  let next = 0;
  for (const i of which(sealed)) {
    const r = requests[i];
    // One CSPRNG call for the rest of the batch: one call per IV dominates at 100,000 values.
    ivs ??= randomBytes(12 * requests.slice(i).reduce((n, q) => n + q.values.length, 0));
    const key = open(masterKey, r.wrappedKey, r.subjectId);
    sealed[i] = r.values.map((v) => (v === null ? null : sealWithIv(key, ivs!.subarray(12 * next, 12 * ++next), v, r.subjectId)));
  }
  return sealed;
}

function* missing(sealed: unknown[]): Generator<number> {
  for (let i = 0; i < sealed.length; i++) if (sealed[i] === undefined) yield i;
}

/** The items nobody has taken yet, each taken from the counter the thread takes its own from. */
function* unclaimed(claims: Int32Array, count: number): Generator<number> {
  for (let i = Atomics.add(claims, 0, 1); i < count; i = Atomics.add(claims, 0, 1)) yield i;
}

function onThread(masterKey: Buffer, requests: SealRequest[], claims: Int32Array): Promise<ThreadPart> {
  const thread = threadFor(masterKey);
  if (thread.idle) clearTimeout(thread.idle);
  thread.idle = null;
  const id = nextId++;
  // Two strings: a structured clone of one object (or one string) per value cost more than the
  // sealing saved. JSON text never holds a raw NUL, nor is it empty, so NUL separates and '' is null.
  const subjects: string[] = new Array(2 * requests.length);
  const starts = new Int32Array(requests.length + 1);
  const values: string[] = [];
  requests.forEach((r, i) => {
    subjects[2 * i] = r.subjectId;
    subjects[2 * i + 1] = r.wrappedKey;
    for (const v of r.values) values.push(v ?? '');
    starts[i + 1] = values.length;
  });
  return new Promise<ThreadPart>((resolve, reject) => {
    thread.pending.set(id, { resolve, reject });
    thread.worker.ref();
    thread.worker.postMessage({ id, claims: claims.buffer, subjects: subjects.join('\0'), starts, values: values.join('\0') });
  });
}

function threadFor(masterKey: Buffer): Thread {
  const existing = threads.get(masterKey);
  if (existing) return existing;
  const worker = new Worker(threadSource, { eval: true, workerData: { master: new Uint8Array(masterKey) } });
  worker.unref();
  const thread: Thread = { worker, pending: new Map(), idle: null };
  threads.set(masterKey, thread);
  const failAll = (error: Error) => {
    if (threads.get(masterKey) === thread) threads.delete(masterKey);
    for (const p of thread.pending.values()) p.reject(error);
    thread.pending.clear();
  };
  worker.on('message', (message: { id: number; error?: string } & Partial<ThreadPart>) => {
    const pending = thread.pending.get(message.id);
    thread.pending.delete(message.id);
    if (message.error !== undefined) pending?.reject(new SealingRefused(message.error));
    else pending?.resolve({ indices: message.indices!, sealed: message.sealed! });
    if (thread.pending.size > 0) return;
    // Nothing in flight: the thread must not keep the process alive, and ends after a quiet spell.
    worker.unref();
    thread.idle = setTimeout(() => {
      if (threads.get(masterKey) === thread) threads.delete(masterKey);
      void worker.terminate();
    }, IDLE_MS);
    thread.idle.unref();
  });
  worker.on('error', failAll);
  worker.on('exit', () => failAll(new Error('the sealing thread ended')));
  return thread;
}
