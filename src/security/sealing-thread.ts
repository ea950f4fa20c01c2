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
parentPort.on('message', ({ id, requests }) => {
  try {
    let count = 0;
    for (const r of requests) count += r.values.length;
    const ivs = randomBytes(12 * count);
    let next = 0;
    const sealed = requests.map((r) => {
      const key = open(master, r.wrappedKey, r.subjectId);
      return r.values.map((v) => (v === null ? null : sealWithIv(key, ivs.subarray(12 * next, 12 * ++next), v, r.subjectId)));
    });
    parentPort.postMessage({ id, sealed });
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
`;

interface Pending {
  resolve(sealed: (string | null)[][]): void;
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

/** Seals each request's values with its subject's key: on the sealing thread for large batches. */
export async function sealForSubjects(masterKey: Buffer, requests: SealRequest[]): Promise<(string | null)[][]> {
  if (requests.length < THREAD_MIN_SUBJECTS) return sealHere(masterKey, requests);
  try {
    return await onThread(masterKey, requests);
  } catch (error) {
    if (error instanceof SealingRefused) throw error;
    // The thread itself failed (it could not start, or ended): the batch is sealed here instead.
    return sealHere(masterKey, requests);
  }
}

/** Whether a sealing thread for this master key is up (tests). */
export function sealingThreadRunning(masterKey: Buffer): boolean {
  return threads.has(masterKey);
}

function sealHere(masterKey: Buffer, requests: SealRequest[]): (string | null)[][] {
  const ivs = randomBytes(12 * requests.reduce((n, r) => n + r.values.length, 0));
  let next = 0;
  return requests.map((r) => {
    const key = open(masterKey, r.wrappedKey, r.subjectId);
    return r.values.map((v) => (v === null ? null : sealWithIv(key, ivs.subarray(12 * next, 12 * ++next), v, r.subjectId)));
  });
}

function onThread(masterKey: Buffer, requests: SealRequest[]): Promise<(string | null)[][]> {
  const thread = threadFor(masterKey);
  if (thread.idle) clearTimeout(thread.idle);
  thread.idle = null;
  const id = nextId++;
  return new Promise<(string | null)[][]>((resolve, reject) => {
    thread.pending.set(id, { resolve, reject });
    thread.worker.ref();
    thread.worker.postMessage({ id, requests });
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
  worker.on('message', (message: { id: number; sealed?: (string | null)[][]; error?: string }) => {
    const pending = thread.pending.get(message.id);
    thread.pending.delete(message.id);
    if (message.error !== undefined) pending?.reject(new SealingRefused(message.error));
    else pending?.resolve(message.sealed!);
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
