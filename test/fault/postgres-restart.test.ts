import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { AppContext } from '../../src/context.ts';
import { openContext } from '../../src/runtime.ts';
import { createInstitution } from '../../src/access/institutions.ts';
import { issueApiToken } from '../../src/access/api-tokens.ts';
import { systemActor } from '../../src/audit/audit-log.ts';
import { startBulkJob } from '../../src/lifecycle/bulk/bulk-job.ts';
import { verifyAuditLog } from '../../src/audit/verify.ts';
import { TEST_PASSWORD, TEST_SECRET } from '../support/harness.ts';
import { buildLetheOnce, killAllLethe, sleep, startServe, startThrowawayCluster, startWorkerProcess, waitUntil, type ThrowawayCluster } from '../support/processes.ts';
import { insertContacts } from '../support/seed-contacts.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * PostgreSQL restarts (`pg_ctl restart -m fast`: every connection cut) while `lethe serve` answers
 * requests and `lethe worker` runs a bulk update. On a cluster of its own, never the shared one.
 */

const CONTACTS = 2000;
const CHUNK = 50;

let cluster: ThrowawayCluster | null = null;
let ctx: AppContext | null = null;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-pgrestart-'));
beforeAll(async () => {
  cluster = await startThrowawayCluster().catch((error) => {
    console.warn(`*** PostgreSQL restart test SKIPPED: could not start a throwaway cluster: ${error.message}`);
    return null;
  });
  if (!cluster) return;
  buildLetheOnce();
  ctx = await openContext(loadConfig({ DATABASE_URL: cluster.url, LETHE_SECRET: TEST_SECRET, LETHE_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }));
}, 60_000);
afterAll(async () => {
  await killAllLethe();
  await ctx?.store.close();
  cluster?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('a PostgreSQL restart under lethe serve and lethe worker', () => {
  it('both reconnect by themselves; the bulk update in progress completes exactly once', async (test) => {
    if (!cluster || !ctx) return test.skip('initdb/pg_ctl are not available (PostgreSQL binaries not installed)');
    const db = ctx.db;
    const t = await createInstitution(ctx, { name: 'Restart', slug: 'restart', organizations: [{ name: 'Main', tier: 'enterprise', emailDomains: [] }], admin: { email: 'admin@restart.example', name: 'A', password: TEST_PASSWORD } }, systemActor);
    const { token } = await issueApiToken(ctx, { institutionId: t.institutionId, userId: t.adminUserId, name: 'load' }, systemActor);
    await insertContacts(db, t.institutionId, CONTACTS, { prefix: 'pg', createdAt: new Date().toISOString() });

    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: cluster.url, LETHE_SECRET: TEST_SECRET, LETHE_DATA_DIR: dataDir, LOG_LEVEL: 'warn', LETHE_WORKER: 'false' };
    delete env.SMTP_URL;
    const [serve, worker] = await Promise.all([startServe(env), startWorkerProcess(env)]);
    const { jobId } = await startBulkJob(
      ctx,
      t.institutionId,
      { viewer: { userId: null, seeStaffOnly: true, seeAllOwners: true }, actor: { userId: t.adminUserId, label: `user:${t.adminUserId}` }, via: 'bulk' },
      {},
      { action: 'update', visibility: 'staff_only' },
      { chunk: CHUNK },
    );
    const job = () => db.selectFrom('jobs').select(['status', 'progress_done', 'attempts', 'result', 'error']).where('id', '=', jobId).executeTakeFirstOrThrow();

    // Requests keep coming throughout: answers while the server is down may fail, never hang.
    const statuses: number[] = [];
    let traffic = true;
    const load = (async () => {
      while (traffic) {
        const res = await fetch(`${serve.url}/api/contacts?limit=20&lastName=pg1`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) }).catch(() => null);
        statuses.push(res?.status ?? 0);
        await res?.arrayBuffer();
        await sleep(20);
      }
    })();

    await waitUntil('the bulk job to be under way', async () => Number((await job()).progress_done) >= 3 * CHUNK, { everyMs: 5 });
    const before = await job();
    expect(before.status).toBe('running');
    expect(Number(before.progress_done)).toBeLessThan(CONTACTS);
    const restartAt = statuses.length;
    cluster.restart();

    await waitUntil('the job to finish after the restart', async () => ['succeeded', 'failed'].includes((await job().catch(() => ({ status: '' }))).status), { timeoutMs: 45_000, everyMs: 100 }).catch(async (e) => {
      throw new Error(`${e.message}: ${JSON.stringify(await job().catch((x) => String(x)))}\nworker: ${worker.output()}`);
    });
    // serve answers again on its own (its pool replaced the cut connections).
    const afterRestart = await waitUntil('serve to answer 200 again', async () => {
      const res = await fetch(`${serve.url}/api/contacts?limit=1`, { headers: { authorization: `Bearer ${token}` } });
      return res.status === 200 ? res : null;
    }, { timeoutMs: 15_000, everyMs: 100 });
    expect(afterRestart.status).toBe(200);
    traffic = false;
    await load;

    expect(serve.alive(), serve.output()).toBe(true);
    expect(worker.alive(), worker.output()).toBe(true);
    const finished = await job();
    expect(finished.status, finished.error ?? '').toBe('succeeded');
    expect(JSON.parse(finished.result!)).toMatchObject({ total: CONTACTS, changed: CONTACTS, unchanged: 0, refused: 0 });
    const changed = await db.selectFrom('contacts').select((eb) => eb.fn.countAll().as('n')).where('institution_id', '=', t.institutionId).where('visibility', '=', 'staff_only').executeTakeFirstOrThrow();
    expect(Number(changed.n)).toBe(CONTACTS);
    const audited = await db
      .selectFrom('audit_log')
      .select([(eb) => eb.fn.countAll().as('n'), (eb) => eb.fn.count('target_id').distinct().as('d')])
      .where('chain', '=', t.institutionId)
      .where('action', '=', 'contact.bulk_update')
      .executeTakeFirstOrThrow();
    expect([Number(audited.n), Number(audited.d)]).toEqual([CONTACTS, CONTACTS]);
    expect((await verifyAuditLog(db)).ok).toBe(true);
    // Requests during the outage got an answer (an error, never a hang or a dropped process), and the ones after it succeed.
    expect(statuses.slice(0, restartAt).every((s) => s === 200)).toBe(true);
    expect(statuses.filter((s) => s !== 200 && s !== 500 && s !== 503 && s !== 0)).toEqual([]);
    expect(statuses.at(-1)).toBe(200);
    await Promise.all([serve.stop(), worker.stop()]);
  }, 90_000);
});
