import fs from 'node:fs';
import path from 'node:path';
import { expect, inject } from 'vitest';

/**
 * Every log line the harness's apps write, appended to one file per test worker in the folder the
 * log-scan global setup made (test/support/log-scan-global-setup.ts), which scans them all once
 * every test file has run. Written synchronously: a worker may be ended without flushing streams.
 */
let fd: number | null | undefined;
let valuesFd: number | null | undefined;

function logDir(): string | null {
  try {
    return inject('logDir') ?? null;
  } catch {
    return null; // outside a vitest worker
  }
}

function open(kind: 'log' | 'values'): number | null {
  const dir = logDir();
  return dir ? fs.openSync(path.join(dir, `${process.pid}.${kind === 'log' ? 'log' : 'values'}`), 'a') : null;
}

export function captureLogLine(line: string): void {
  if (fd === undefined) fd = open('log');
  if (fd !== null) fs.writeSync(fd, line.endsWith('\n') ? line : `${line}\n`);
}

/** Marks the lines that follow as written by the running test file. */
export function markTestFile(): void {
  let testFile: string | undefined;
  try {
    testFile = expect.getState().testPath;
  } catch {
    return;
  }
  if (testFile) captureLogLine(JSON.stringify({ testFile: path.relative(process.cwd(), testFile) }));
}

/** A personal value made at run time (not written in a test's source) that no log line may hold. */
export function notePii(value: string): void {
  if (valuesFd === undefined) valuesFd = open('values');
  if (valuesFd !== null) fs.writeSync(valuesFd, `${value.replace(/\n/g, ' ')}\n`);
}
