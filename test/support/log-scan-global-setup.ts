import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { formatHits, piiInTestSources, scanLogDir } from './pii-scan.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    logDir: string | null;
  }
}

/**
 * Gives the test workers a folder for their log lines (test/support/log-capture.ts) and, after
 * every test file has run, scans all of them for the personal values the tests used: the SSNs,
 * emails, phone numbers and names in the test sources and the addresses the harness made.
 *
 * A hit fails the run. vitest ignores an exception thrown by a global teardown (the run still
 * exits 0), so the teardown sets the exit code itself; test/pii-log-scan.test.ts checks the same
 * property on a scenario of its own, and that the scan finds what it should.
 */
export default function setup(project: TestProject) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-test-logs-'));
  project.provide('logDir', dir);
  return () => {
    const values = piiInTestSources(process.cwd());
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.values'))) {
      for (const v of fs.readFileSync(path.join(dir, name), 'utf8').split('\n')) if (v.trim()) values.add(v.trim());
    }
    const logs = fs.readdirSync(dir).filter((n) => n.endsWith('.log'));
    const hits = scanLogDir(dir, values);
    if (hits.length) {
      console.error(
        `\n*** PERSONAL DATA IN LOGS: ${hits.length} occurrence(s) of values the tests used, in ${logs.length} log file(s) kept in ${dir}:\n${formatHits(hits)}\n`,
      );
      process.exitCode = 1;
      return;
    }
    if (process.env.LETHE_LOG_SCAN_VERBOSE === '1') console.info(`log scan: ${values.size} personal values, ${logs.length} log file(s), no hit`);
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
