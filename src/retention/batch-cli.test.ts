import { expect, it } from 'vitest';
import { describeEachEngine, drainJobs } from '../../test/support/harness.ts';
import { cliActor } from '../audit/audit-log.ts';
import { runCli } from '../lifecycle/test-fixtures.ts';
import { startInactiveRun } from './inactive-runs.ts';
import { newContact, post, sale } from './test-support.ts';


describeEachEngine('lethe batch inactive, lethe recency rebuild, and the scheduled batch', (h) => {
  it('simulates then executes from the CLI with clear refusals and exit codes', async () => {
    // The CLI reads the real clock: these contacts were created and last active years before it.
    h.clock.set('2019-05-01T09:00:00.000Z');
    const t = await h.tenant();
    const slug = (await h.ctx.db.selectFrom('institutions').select('slug').where('id', '=', t.institutionId).executeTakeFirstOrThrow()).slug;
    const prospect = await newContact(h, t, 'Cli', 'Prospect');
    const buyer = await newContact(h, t, 'Cli', 'Buyer');
    await post(h, t.admin.token, '/api/ticketing/orders', sale(buyer, 'CLI-1', '2019-05-02T00:00:00Z'));

    const zero = await runCli(h, ['batch', 'inactive', '--institution', slug, '--months', '0']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('--months: must be a whole number of months greater than 0');
    expect((await runCli(h, ['batch', 'inactive', '--institution', slug, '--months', '-4'])).code).toBe(2);
    const unknown = await runCli(h, ['batch', 'inactive', '--institution', 'no-such-place']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('no institution has the slug or id "no-such-place"');

    const sim = await runCli(h, ['batch', 'inactive', '--institution', slug, '--months', '24']);
    expect(sim.code, sim.stderr).toBe(0);
    expect(sim.stdout).toContain('Simulation (nothing was changed)');
    expect(sim.stdout).toMatch(/prospects to delete:\s+1/);
    expect(sim.stdout).toMatch(/customers to anonymise:\s+1/);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${prospect}` })).statusCode).toBe(200);

    // A run queued elsewhere holds the lock: the CLI is refused with the conflict exit code.
    const held = await startInactiveRun(h.ctx, t.institutionId, { actor: cliActor });
    const locked = await runCli(h, ['batch', 'inactive', '--institution', slug, '--execute']);
    expect(locked.code).toBe(4);
    expect(locked.stderr).toContain('holds this institution');
    await drainJobs(h);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/retention/runs/${held.id}` })).json().status).toBe('succeeded');

    const exec = await runCli(h, ['batch', 'inactive', '--institution', slug, '--months', '24', '--execute']);
    expect(exec.code, exec.stderr).toBe(0);
    expect(exec.stdout).toContain('done: 1 deleted, 1 anonymised');
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${buyer}` })).json().firstName).toBe('Anonymised');

    // An execution whose process died (its lease expired) is resumed by the same command.
    const again = await newContact(h, t, 'Cli', 'Later');
    await h.ctx.db.updateTable('contacts').set({ created_at: '2019-05-01T09:00:00.000Z' }).where('id', '=', again).execute();
    h.clock.set(new Date());
    const dead = await startInactiveRun(h.ctx, t.institutionId, { months: 24, execute: true, actor: cliActor });
    await h.ctx.db.updateTable('jobs').set({ status: 'running', lease_owner: 'cli:dead', lease_expires_at: '2000-01-01T00:00:00.000Z' }).where('id', '=', dead.jobId!).execute();
    const resumed = await runCli(h, ['batch', 'inactive', '--institution', slug, '--execute']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`Resuming the interrupted execution ${dead.id}`);
    expect(resumed.stdout).toContain('done: 1 deleted, 0 anonymised');

    // Rebuilding recency from scratch gives what was maintained.
    const before = await h.ctx.db.selectFrom('contact_recency').select(['contact_id', 'recency_at', 'reason']).orderBy('contact_id').execute();
    const rebuilt = await runCli(h, ['recency', 'rebuild', '--institution', slug]);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toContain('Recency rebuilt: 1 contacts');
    expect(await h.ctx.db.selectFrom('contact_recency').select(['contact_id', 'recency_at', 'reason']).orderBy('contact_id').execute()).toEqual(before);
  });

  it('runs on the institution’s cron schedule, in simulation mode by default; refuses a bad schedule by field', async () => {
    h.clock.set('2026-01-15T09:00:00.000Z');
    const t = await h.tenant();
    const bad = await h.request(t.admin.token, { method: 'PATCH', url: '/api/retention/settings', payload: { schedule: 'every tuesday', inactivityMonths: 0 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { field: string }) => e.field).sort()).toEqual(['inactivityMonths', 'schedule']);
    const set = await h.request(t.admin.token, { method: 'PATCH', url: '/api/retention/settings', payload: { schedule: '0 3 1 * *', inactivityMonths: 24 } });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toMatchObject({ schedule: '0 3 1 * *', inactivityMonths: 24, simulation: true });

    await drainJobs(h);
    expect((await h.request(t.admin.token, { method: 'GET', url: '/api/retention/runs' })).json().items).toEqual([]);
    h.clock.set('2026-02-01T03:00:00.000Z');
    await drainJobs(h);
    const runs = (await h.request(t.admin.token, { method: 'GET', url: '/api/retention/runs' })).json().items;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ mode: 'simulation', months: 24, status: 'succeeded', cutoff: '2024-02-01T00:00:00.000Z' });
    // Not again until the next first of the month.
    h.clock.set('2026-02-20T03:00:00.000Z');
    await drainJobs(h);
    expect((await h.request(t.admin.token, { method: 'GET', url: '/api/retention/runs' })).json().items).toHaveLength(1);

    // Another tenant sees none of it.
    const other = await h.tenant();
    expect((await h.request(other.admin.token, { method: 'GET', url: `/api/retention/runs/${runs[0].id}` })).statusCode).toBe(404);
    expect((await h.request(other.admin.token, { method: 'GET', url: `/api/retention/runs/${runs[0].id}/report.csv` })).statusCode).toBe(404);
    const staff = await h.user(t, 'staff');
    expect((await h.request(staff.token, { method: 'POST', url: '/api/retention/runs', payload: {} })).statusCode).toBe(403);
  });
});
