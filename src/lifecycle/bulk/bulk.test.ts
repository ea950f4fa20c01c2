import { expect, it } from 'vitest';
import { describeEachEngine, type Harness, type SeededTenant, drainJobs } from '../../../test/support/harness.ts';
import { contactsApi } from '../../../test/support/contacts.ts';
import { listAudit } from '../../audit/audit-log.ts';
import { verifyAuditLog } from '../../audit/verify.ts';
import { JobLostError } from '../../jobs/worker.ts';
import { claimNextJob } from '../../jobs/queue.ts';
import { ensureEmployer } from '../test-fixtures.ts';
import { BULK_JOB_KIND, runBulkJob, startBulkJob } from './bulk-job.ts';


async function people(h: Harness, t: SeededTenant, n: number, extra: Record<string, unknown> = {}): Promise<string[]> {
  const api = contactsApi(h, t.admin.token);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await api.createContact({ firstName: `P${i}`, lastName: `Bulk${String(i).padStart(3, '0')}`, ...extra })).id);
  return ids;
}

describeEachEngine('bulk update of a filtered set', (h) => {
  it('previews the count, then updates attribute and visibility as a job with progress, one audit entry per contact, and a report', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    await api.defineAttribute({ key: 'cohort', type: 'choice', options: ['2019', '2020'] });
    await api.defineAttribute({ key: 'status', type: 'text' });
    const picked = await people(h, t, 5, { attributes: { cohort: '2019' } });
    const other = await people(h, t, 2, { attributes: { cohort: '2020' } });
    const body = { filter: { attributes: [{ key: 'cohort', values: ['2019'] }] }, action: { action: 'update', visibility: 'staff_only', attributes: { status: 'alumni' }, reason: 'cohort closed' } };

    const jobs = await h.count('jobs');
    const preview = await api.call('POST', '/api/contacts/bulk/preview', body);
    expect(preview.json()).toEqual({ count: 5, action: 'update' });
    const stale = await api.call('POST', '/api/contacts/bulk', { ...body, expectedCount: 4 });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().errors[0].field).toBe('expectedCount');
    expect(await h.count('jobs')).toBe(jobs);

    const started = await api.call('POST', '/api/contacts/bulk', { ...body, expectedCount: 5 });
    expect(started.statusCode, started.body).toBe(202);
    const { jobId } = started.json();
    expect((await api.get(`/api/jobs/${jobId}`))).toMatchObject({ status: 'queued', progress: { done: 0, total: 5 } });
    await drainJobs(h);
    const job = await api.get(`/api/jobs/${jobId}`);
    expect(job).toMatchObject({ status: 'succeeded', progress: { done: 5, total: 5, percent: 100 }, result: { action: 'update', total: 5, changed: 5, unchanged: 0, refused: 0 } });

    for (const id of picked) expect(await api.get(`/api/contacts/${id}`)).toMatchObject({ visibility: 'staff_only', attributes: { cohort: '2019', status: 'alumni' } });
    for (const id of other) expect(await api.get(`/api/contacts/${id}`)).toMatchObject({ visibility: 'everyone', attributes: { cohort: '2020' } });
    const entries = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'contact.bulk_update', limit: 50 });
    expect(entries.map((e) => (e.after as { reason: string }).reason)).toEqual(Array(5).fill('cohort closed'));
    expect(entries.map((e) => (e as { targetId: string }).targetId).sort()).toEqual([...picked].sort());
    expect(entries[0]).toMatchObject({ before: { visibility: 'everyone', attributes: { status: null } }, after: { visibility: 'staff_only', attributes: { status: 'alumni' } }, actorUserId: t.adminUserId });
    expect((await verifyAuditLog(h.ctx.db)).ok).toBe(true);
    const timeline = await api.get(`/api/contacts/${picked[0]}/activity`);
    expect(timeline.items.map((e: { type: string }) => e.type).sort()).toEqual(['contact.created', 'contact.criterion_changed', 'contact.updated', 'contact.visibility_changed']);
    expect(await h.count('bulk_job_items')).toBe(0);

    // Running the same update again changes nothing and says so.
    const again = (await api.call('POST', '/api/contacts/bulk', body)).json();
    await drainJobs(h);
    expect((await api.get(`/api/jobs/${again.jobId}`)).result).toMatchObject({ changed: 0, unchanged: 5 });
  });

  it('audits and records each contact’s own change when the contacts of one chunk start from different values', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    await api.defineAttribute({ key: 'cohort', type: 'choice', options: ['2019'] });
    await api.defineAttribute({ key: 'status', type: 'text' });
    const start = [
      { visibility: 'everyone', status: undefined },
      { visibility: 'owner_only', status: 'current' },
      { visibility: 'everyone', status: 'current' },
      { visibility: 'owner_only', status: undefined },
      { visibility: 'everyone', status: undefined },
    ] as const;
    const ids: string[] = [];
    for (const [i, s] of start.entries()) {
      const attributes = { cohort: '2019', ...(s.status ? { status: s.status } : {}) };
      ids.push((await api.createContact({ firstName: `Mixed${i}`, lastName: 'Start', visibility: s.visibility, attributes })).id);
    }
    const res = await api.call('POST', '/api/contacts/bulk', { filter: { attributes: [{ key: 'cohort', values: ['2019'] }] }, action: { action: 'update', visibility: 'staff_only', attributes: { status: 'alumni' } } });
    expect(res.statusCode, res.body).toBe(202);
    await drainJobs(h);
    const entries = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'contact.bulk_update', limit: 50 });
    for (const [i, s] of start.entries()) {
      const entry = entries.find((e) => (e as { targetId: string }).targetId === ids[i]);
      expect(entry).toMatchObject({ before: { visibility: s.visibility, attributes: { status: s.status ?? null } }, after: { visibility: 'staff_only', attributes: { status: 'alumni' } } });
      const timeline = (await api.get(`/api/contacts/${ids[i]}/activity`)).items as { type: string; data: Record<string, unknown> }[];
      expect(timeline.find((e) => e.type === 'contact.visibility_changed')?.data).toEqual({ from: s.visibility, to: 'staff_only' });
    }
    expect((await verifyAuditLog(h.ctx.db)).ok).toBe(true);
  });

  it('archives, rejects, approves, disables, restores, deletes and expunges in bulk; refusals are counted with their reason', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const acme = await ensureEmployer(h, t.admin.token, 'Acme Corp');
    const ids = await people(h, t, 4, { employerId: acme });
    const run = async (filter: object, action: object) => {
      const res = await api.call('POST', '/api/contacts/bulk', { filter, action });
      expect(res.statusCode, res.body).toBe(202);
      await drainJobs(h);
      return (await api.get(`/api/jobs/${res.json().jobId}`)).result;
    };

    expect(await run({ employerId: acme }, { action: 'archive' })).toMatchObject({ changed: 4 });
    expect((await api.get(`/api/employers/${acme}/contacts?status=former`)).items).toHaveLength(4);
    await api.call('POST', `/api/contacts/${ids[0]}/disable`);
    const report = await run({ ids, lifecycle: 'any' }, { action: 'reject' });
    expect(report).toMatchObject({ changed: 3, refused: 1, reasons: { 'The contact is disabled (its account was deleted); restore it first.': 1 }, refusedSample: [{ id: ids[0] }] });
    expect((await api.list('')).items).toEqual([]);
    expect(await run({ approvalStatus: 'rejected' }, { action: 'approve' })).toMatchObject({ changed: 3 });
    expect(await run({ lifecycle: 'disabled' }, { action: 'restore' })).toMatchObject({ changed: 1 });
    expect(await run({ ids: ids.slice(0, 2) }, { action: 'delete', reason: 'duplicate' })).toMatchObject({ changed: 2 });
    expect(await run({ ids: ids.slice(2) }, { action: 'expunge', notify: false })).toMatchObject({ changed: 2 });
    expect(await h.ctx.db.selectFrom('contacts').select('id').where('id', 'in', ids).execute()).toEqual([]);
    expect((await listAudit(h.ctx, { institutionId: t.institutionId, action: 'contact.expunge', limit: 10 })).map((e) => e.meta?.via)).toEqual(['bulk', 'bulk']);
  });

  it('moves a filtered set to another employer; the old employer keeps them as former contacts', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const acme = await ensureEmployer(h, t.admin.token, 'Acme Corp');
    const globex = await ensureEmployer(h, t.admin.token, 'Globex');
    const moving = await people(h, t, 3, { employerId: acme });
    const res = await api.call('POST', '/api/contacts/bulk', { filter: { employerId: acme }, action: { action: 'update', employerId: globex }, expectedCount: 3 });
    expect(res.statusCode, res.body).toBe(202);
    await drainJobs(h);
    expect((await api.get(`/api/jobs/${res.json().jobId}`)).result).toMatchObject({ changed: 3 });
    expect((await api.get(`/api/employers/${globex}/contacts`)).items.map((c: { id: string }) => c.id).sort()).toEqual([...moving].sort());
    expect((await api.get(`/api/employers/${acme}/contacts?status=former`)).items.map((c: { id: string }) => c.id).sort()).toEqual([...moving].sort());
    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'contact.bulk_update', targetId: moving[0], limit: 1 });
    expect(entry).toMatchObject({ before: { employerId: acme }, after: { employerId: globex } });
  });

  it('resumes after a crash from its last committed chunk: every contact once, one audit entry each', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    await api.defineAttribute({ key: 'flag', type: 'boolean' });
    const ids = await people(h, t, 7);
    const started = await startBulkJob(
      h.ctx,
      t.institutionId,
      { viewer: { userId: null, seeStaffOnly: true, seeAllOwners: true }, actor: { userId: t.adminUserId, label: `user:${t.adminUserId}` }, via: 'bulk' },
      { ids },
      { action: 'update', attributes: { flag: true } },
      { chunk: 3 },
    );
    const job = (await claimNextJob(h.ctx, 'worker-a', [BULK_JOB_KIND], 60_000))!;
    expect(job.id).toBe(started.jobId);
    // Worker A commits one chunk, then loses its lease (it died; another worker took over).
    let chunks = 0;
    await expect(
      runBulkJob(h.ctx, job, { workerId: 'worker-a', checkpoint: () => null, progress: async () => {} }, {
        onChunk: async () => {
          if (++chunks === 1) await h.ctx.db.updateTable('jobs').set({ lease_owner: 'worker-b' }).where('id', '=', job.id).execute();
        },
      }),
    ).rejects.toBeInstanceOf(JobLostError);
    expect(await api.get(`/api/jobs/${job.id}`)).toMatchObject({ progress: { done: 3, total: 7 } });
    expect((await listAudit(h.ctx, { institutionId: t.institutionId, action: 'contact.bulk_update', limit: 50 })).length).toBe(3);

    // The lease runs out; the next worker picks the job up from its checkpoint.
    await h.ctx.db.updateTable('jobs').set({ lease_expires_at: new Date(h.clock.now().getTime() - 1).toISOString() }).where('id', '=', job.id).execute();
    await drainJobs(h);
    expect(await api.get(`/api/jobs/${job.id}`)).toMatchObject({ status: 'succeeded', attempts: 2, result: { total: 7, changed: 7, unchanged: 0 } });
    const entries = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'contact.bulk_update', limit: 50 });
    expect(entries.map((e) => (e as { targetId: string }).targetId).sort()).toEqual([...ids].sort());
    for (const id of ids) expect((await api.get(`/api/contacts/${id}`)).attributes).toEqual({ flag: true });
  });

  it('checks the action and its permission before queueing anything, naming bad fields', async () => {
    const t = await h.tenant();
    const staff = await h.user(t, 'staff');
    const api = contactsApi(h, t.admin.token);
    await people(h, t, 1);
    const jobs = await h.count('jobs');
    const forbidden = await h.request(staff.token, { method: 'POST', url: '/api/contacts/bulk', payload: { filter: {}, action: { action: 'expunge' } } });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().detail).toContain('contacts.expunge');
    const unknownAttr = await api.call('POST', '/api/contacts/bulk', { filter: {}, action: { action: 'update', attributes: { nope: 1 } } });
    expect(unknownAttr.statusCode).toBe(422);
    expect(unknownAttr.json().errors).toEqual([{ field: 'attributes.nope', message: 'is not a defined attribute (see GET /api/attributes)' }]);
    const empty = await api.call('POST', '/api/contacts/bulk', { filter: {}, action: { action: 'update' } });
    expect(empty.statusCode).toBe(400);
    const badFilter = await api.call('POST', '/api/contacts/bulk/preview', { filter: { visibility: 'secret' }, action: { action: 'archive' } });
    expect(badFilter.statusCode).toBe(400);
    expect(badFilter.json().errors[0].field).toBe('filter.visibility');
    const none = await api.call('POST', '/api/contacts/bulk', { filter: { lastName: 'Zzz' }, action: { action: 'archive' } });
    expect(none.statusCode).toBe(422);
    expect(none.json().errors[0].field).toBe('filter');
    expect(await h.count('jobs')).toBe(jobs);
    const other = await h.tenant();
    const foreign = await h.request(other.admin.token, { method: 'POST', url: '/api/contacts/bulk/preview', payload: { filter: {}, action: { action: 'archive' } } });
    expect(foreign.json().count).toBe(0);
  });
});
