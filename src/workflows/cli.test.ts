import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { exitCodes } from '../cli/errors.ts';
import { runCli } from '../lifecycle/test-fixtures.ts';

describeEachEngine('lethe workflow', (h) => {
  it('creates the seed 000 workflow, enrolls, pauses and resumes it, with exit codes that say what went wrong', async () => {
    const t = await h.tenant();
    const { slug } = await h.ctx.db.selectFrom('institutions').select('slug').where('id', '=', t.institutionId).executeTakeFirstOrThrow();
    const created = await runCli(h, ['workflow', 'create', '--institution', slug, '--template', 'opt_in_or_expunge', '--grace-days', '10']);
    expect(created.code, created.stderr).toBe(0);
    const id = /Workflow (\S+) created \(version 1\)/.exec(created.stdout)![1];

    const c = await h.request(t.admin.token, { method: 'POST', url: '/api/contacts', payload: { firstName: 'Old', lastName: 'Timer', email: 'old.timer@cli.example', source: 'self_signup' } });
    const enrolled = await runCli(h, ['workflow', 'enroll', id, '--institution', slug, '--source', 'self_signup']);
    expect(enrolled).toMatchObject({ code: 0, stdout: `Enrolled 1 of 1 matching contact(s) in workflow ${id}.\n` });
    expect((await runCli(h, ['workflow', 'enroll', id, '--institution', slug, '--ids', c.json().id])).stdout).toContain('Enrolled 0 of 1');
    expect((await runCli(h, ['workflow', 'enroll', id, '--institution', slug])).code).toBe(exitCodes.usage);
    expect((await runCli(h, ['workflow', 'enroll', id, '--institution', slug, '--opt-in-status', 'maybe'])).stderr).toContain('--opt-in-status');

    expect((await runCli(h, ['workflow', 'pause', id, '--institution', slug])).stdout).toBe(`Workflow ${id} is paused.\n`);
    expect((await runCli(h, ['workflow', 'pause', id, '--institution', slug])).code).toBe(exitCodes.conflict);
    const listed = await runCli(h, ['workflow', 'list', '--institution', slug]);
    expect(listed.stdout).toContain(`${id}  paused  v1  Opt in or be erased after 10 days  (paused 1)`);
    expect((await runCli(h, ['workflow', 'resume', id, '--institution', slug])).code).toBe(0);
    const shown = JSON.parse((await runCli(h, ['workflow', 'show', id, '--institution', slug])).stdout);
    expect(shown).toMatchObject({ id, status: 'active', enrollments: { active: 1 }, definition: { steps: [{}, { wait: { days: 10 } }, {}, {}] } });

    expect((await runCli(h, ['workflow', 'show', 'nope', '--institution', slug])).code).toBe(exitCodes.notFound);
    const file = path.join(h.database.dataDir, 'bad-workflow.json');
    fs.writeFileSync(file, JSON.stringify({ name: 'bad', trigger: { type: 'manual' }, steps: [{ type: 'wait', wait: { days: -1 } }] }));
    const bad = await runCli(h, ['workflow', 'create', '--institution', slug, '--file', file]);
    expect(bad.code).toBe(exitCodes.usage);
    expect(bad.stderr).toContain('steps[0].wait.days');
  });
});
