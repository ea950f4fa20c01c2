import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, TEST_SECRET, type Harness } from '../../test/support/harness.ts';
import { startSmtpSink } from '../../test/support/smtp.ts';
import { newId } from '../ids.ts';
import { insertEnrollments } from './triggers.ts';

// The figure is 50,000 steps (WORKFLOW_ONCE_CONTACTS=25000). The normal suite runs 1,000:
// on the shared 2-core machines the outbox (a claim and a commit per message) sends ~60 mails/s,
// so 5,000 steps took over two minutes.
const CONTACTS = Number(process.env.WORKFLOW_ONCE_CONTACTS ?? 500);
const STEPS_PER_RUN = 2;
const bin = path.resolve('bin/lethe.js');

let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
beforeAll(async () => {
  smtp = await startSmtpSink();
});
afterAll(() => smtp.close());

function worker(h: Harness): Promise<{ code: number | null; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LETHE_DATA_DIR: h.database.dataDir, LETHE_SECRET: TEST_SECRET, DATABASE_URL: h.database.url, SMTP_URL: `${smtp.url}?pool=true`, LOG_LEVEL: 'error' };
  const child = spawn(process.execPath, [bin, 'worker', '--once'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

describeEachEngine('workflow steps with several worker processes', (h) => {
  it.skipIf(h.kind !== 'postgres')(`three \`lethe worker\` processes run ${CONTACTS * STEPS_PER_RUN} due steps exactly once, mail counted at the SMTP server`, async () => {
    const t = await h.tenant();
    const wf = await h.request(t.admin.token, {
      method: 'POST',
      url: '/api/workflows',
      payload: {
        name: 'twice',
        trigger: { type: 'manual' },
        steps: [
          { type: 'send_email', send_email: { category: 'transactional', subject: 'first {{contactId}}', text: 'one' } },
          { type: 'send_email', send_email: { category: 'transactional', subject: 'second {{contactId}}', text: 'two' } },
        ],
      },
    });
    expect(wf.statusCode, wf.body).toBe(201);
    const now = h.clock.now().toISOString();
    const ids = Array.from({ length: CONTACTS }, () => newId());
    for (let i = 0; i < ids.length; i += 500) {
      await h.ctx.db
        .insertInto('contacts')
        .values(
          ids.slice(i, i + 500).map((id, j) => ({
            id, institution_id: t.institutionId, organization_id: null, first_name: 'W', last_name: `Once${i + j}`, first_name_folded: 'w', last_name_folded: `once${i + j}`,
            email: `w${i + j}@once.example`, email_normalized: `w${i + j}@once.example`, mobile_phone: null, mobile_e164: null, ssn_hash_full: null, ssn_hash_last6: null, ssn_hash_last4: null,
            employer_id: null, owner_user_id: null, visibility: 'everyone' as const, approval_status: 'approved' as const, source: 'api' as const, opt_in_status: 'unknown' as const, opt_in_changed_at: null, created_at: now, updated_at: now,
          })),
        )
        .execute();
    }
    // Due now for the workers, which run on the real clock (later than the test's).
    await insertEnrollments(h.ctx.db, ids.map((contactId) => ({ institutionId: t.institutionId, workflowId: wf.json().id, version: 1, contactId, trigger: 'manual', at: now })));
    spawnSync(process.execPath, [bin, '--help'], { stdio: 'ignore' }); // build the bundle once, not three times at once
    const before = smtp.received.length;

    // `worker --once` can exit with follow-up work its own loop left (src/jobs/worker.ts stops that
    // loop after its current pass), so another round of three runs until nothing is due.
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all([worker(h), worker(h), worker(h)]);
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      const open = await h.ctx.db.selectFrom('workflow_enrollments').select('id').where('institution_id', '=', t.institutionId).where('state', '=', 'active').executeTakeFirst();
      const unsent = await h.ctx.db.selectFrom('outbox_messages').select('id').where('institution_id', '=', t.institutionId).where('status', 'in', ['pending', 'sending']).executeTakeFirst();
      if (!open && !unsent) break;
    }
    const states = await h.ctx.db.selectFrom('workflow_enrollments').select(['state', (eb) => eb.fn.countAll<number>().as('n')]).where('institution_id', '=', t.institutionId).groupBy('state').execute();
    expect(states.map((s) => [s.state, Number(s.n)])).toEqual([['completed', CONTACTS]]);
    const history = await h.ctx.db
      .selectFrom('workflow_step_runs as r')
      .innerJoin('workflow_enrollments as e', 'e.id', 'r.enrollment_id')
      .select([(eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.count<number>('r.outcome').distinct().as('outcomes')])
      .where('e.institution_id', '=', t.institutionId)
      .executeTakeFirstOrThrow();
    expect(Number(history.n)).toBe(CONTACTS * STEPS_PER_RUN);
    const got = smtp.received.slice(before);
    expect(got).toHaveLength(CONTACTS * STEPS_PER_RUN);
    expect(new Set(got.map((m) => m.subject)).size).toBe(CONTACTS * STEPS_PER_RUN);
    expect(new Set(got.map((m) => m.messageId)).size).toBe(CONTACTS * STEPS_PER_RUN);
  }, 300_000);
});
