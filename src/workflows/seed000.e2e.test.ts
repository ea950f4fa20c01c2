import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, drainJobs, type Harness } from '../../test/support/harness.ts';
import { startSmtpSink } from '../../test/support/smtp.ts';
import { smtpTransport } from '../mail/transport.ts';
import { dumpRows } from '../lifecycle/test-fixtures.ts';

let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
beforeAll(async () => {
  smtp = await startSmtpSink();
});
afterAll(() => smtp.close());

/** Whether anything is left for a worker now: a job, a workflow step or a message. */
async function somethingDue(h: Harness): Promise<boolean> {
  const now = h.clock.now().toISOString();
  const job = await h.ctx.db.selectFrom('jobs').select('id').where('status', 'in', ['queued', 'running']).where('run_after', '<=', now).executeTakeFirst();
  const step = await h.ctx.db.selectFrom('workflow_enrollments').select('id').where('state', '=', 'active').where('next_run_at', '<=', now).executeTakeFirst();
  const mail = await h.ctx.db.selectFrom('outbox_messages').select('id').where('status', 'in', ['pending', 'sending']).where('next_attempt_at', '<=', now).executeTakeFirst();
  return Boolean(job || step || mail);
}

/**
 * Everything due, as `lethe worker` would run it: jobs (the import), workflow steps, the outbox
 * over real SMTP, erasure notices; then a check that nothing is left due.
 */
async function runWorker(h: Harness): Promise<void> {
  await drainJobs(h, smtpTransport(smtp.url));
  if (await somethingDue(h)) throw new Error('the worker left due work behind');
}

const mailTo = (address: string) => smtp.received.filter((m) => m.to.includes(address));

describeEachEngine('seed 000: opt in or be expunged', (h) => {
  it('asks contacts added by staff to opt in, keeps those who did and expunges the rest with a confirmation', async () => {
    const t = await h.tenant();
    const tag = Math.random().toString(36).slice(2, 8);
    const wf = await h.request(t.admin.token, { method: 'POST', url: '/api/workflow-templates/opt_in_or_expunge', payload: { graceDays: 30 } });
    expect(wf.statusCode, wf.body).toBe(201);

    const create = async (first: string, source: string) => {
      const email = `${first.toLowerCase()}.${tag}@seed000.example`;
      const res = await h.request(t.admin.token, { method: 'POST', url: '/api/contacts', payload: { firstName: first, lastName: `Zed${tag}`, email, source } });
      expect(res.statusCode, res.body).toBe(201);
      return { id: res.json().id as string, email, first };
    };
    const keeper = await create('Keeper', 'manual');
    const silent = await create('Silent', 'manual');
    const selfSigned = await create('Selfie', 'self_signup');
    // A real CSV import: its chunk transaction creates the contacts and their enrollments together.
    const importedEmail = `imported.${tag}@seed000.example`;
    const upload = await h.request(t.admin.token, {
      method: 'POST',
      url: '/api/imports?fileName=people.csv',
      headers: { 'content-type': 'text/csv' },
      payload: `First Name,Last Name,E-mail\nImported,Zed${tag},${importedEmail}\n`,
    });
    expect(upload.statusCode, upload.body).toBe(202);

    await runWorker(h);
    const importedRow = await h.ctx.db.selectFrom('contacts').select(['id', 'source']).where('email_normalized', '=', importedEmail).executeTakeFirstOrThrow();
    expect(importedRow.source).toBe('bulk_import');
    const imported = { id: importedRow.id, email: importedEmail, first: 'Imported' };
    for (const c of [keeper, silent, imported]) {
      const got = mailTo(c.email);
      expect(got, c.first).toHaveLength(1);
      expect(got[0].subject).toContain('do you want us to keep your profile?');
      expect(got[0].text).toContain(`Hello ${c.first},`);
      expect(got[0].html).toContain('/p/opt-in/');
    }
    expect(mailTo(selfSigned.email)).toHaveLength(0);

    // The keeper follows the link and ticks the box.
    const link = /\/p\/opt-in\/[A-Za-z0-9_.-]+/.exec(mailTo(keeper.email)[0].text)![0];
    const form = await h.app.inject({ method: 'GET', url: link });
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('type="checkbox" name="consent"');
    const unticked = await h.app.inject({ method: 'POST', url: link, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
    expect(unticked.statusCode).toBe(400);
    const ticked = await h.app.inject({ method: 'POST', url: link, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'consent=yes' });
    expect(ticked.statusCode, ticked.body).toBe(200);
    expect(ticked.body).toContain('Your consent is recorded');

    // Day 29: nobody is expunged yet; day 31: the silent ones are.
    h.clock.advanceDays(29);
    await runWorker(h);
    expect(await h.ctx.db.selectFrom('contacts').select('id').where('id', 'in', [silent.id, imported.id]).execute()).toHaveLength(2);
    h.clock.advanceDays(2);
    await runWorker(h);

    const left = (await h.ctx.db.selectFrom('contacts').select('id').where('institution_id', '=', t.institutionId).execute()).map((r) => r.id).sort();
    expect(left).toEqual([keeper.id, selfSigned.id].sort());
    expect(mailTo(keeper.email)).toHaveLength(1);
    for (const c of [silent, imported]) {
      const got = mailTo(c.email);
      expect(got.map((m) => m.subject)).toEqual([expect.stringContaining('keep your profile'), 'Your data has been erased']);
    }

    const runs = await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${keeper.id}/workflow-runs` });
    expect(runs.json().items).toMatchObject([
      {
        state: 'completed',
        steps: [
          { stepId: 'ask_opt_in', outcome: 'done' },
          { stepId: 'grace_period', outcome: 'done' },
          { stepId: 'opted_in', outcome: 'done', detail: 'true → end' },
        ],
      },
    ]);
    const all = await h.request(t.admin.token, { method: 'GET', url: `/api/workflows/${wf.json().id}/enrollments` });
    expect(all.json().items.map((e: { state: string; contactId: string | null }) => e.state).sort()).toEqual(['completed', 'completed', 'completed']);
    expect(all.json().items.filter((e: { contactId: string | null }) => e.contactId === null)).toHaveLength(2);

    // Nothing of the expunged contacts is left in any table.
    const dump = [...(await dumpRows(h)).values()].flat().join('\n');
    for (const c of [silent, imported]) {
      expect(dump).not.toContain(c.email);
    }
    expect(dump).toContain(keeper.email);
    expect(h.logLines.join('\n')).not.toContain(silent.email);
  });
});
