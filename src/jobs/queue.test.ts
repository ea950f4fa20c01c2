import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { enqueueJob, claimNextJob } from './queue.ts';
import { runOneJob, startWorker, type JobHandler } from './worker.ts';

describeEachEngine('job queue', (h) => {
  it('runs a job once, records progress and a resume point, and shows it in the API', async () => {
    const t = await h.tenant();
    const id = await enqueueJob(h.ctx.db, h.clock.now().toISOString(), { institutionId: t.institutionId, kind: 'count', payload: { upTo: 3 } });
    const seen: number[] = [];
    const count: JobHandler = async (_ctx, job, control) => {
      const { upTo } = JSON.parse(job.payload);
      for (let i = 1; i <= upTo; i++) {
        seen.push(i);
        await control.progress(i, upTo, { next: i + 1 });
      }
      return { counted: upTo };
    };
    expect(await runOneJob(h.ctx, { handlers: { count } }, 'w1')).toBe(true);
    expect(await runOneJob(h.ctx, { handlers: { count } }, 'w1')).toBe(false);
    expect(seen).toEqual([1, 2, 3]);
    const res = await h.request(t.admin.token, { method: 'GET', url: `/api/jobs/${id}` });
    expect(res.json()).toMatchObject({ status: 'succeeded', progress: { done: 3, total: 3, percent: 100 }, result: { counted: 3 } });
    const other = await h.tenant();
    expect((await h.request(other.admin.token, { method: 'GET', url: `/api/jobs/${id}` })).statusCode).toBe(404);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/jobs/not-a-uuid` })).json()).toMatchObject({ status: 400, errors: [{ field: 'params.id' }] });
  });

  it('lists a full page of the jobs the caller may see, however many newer ones it may not', async () => {
    const t = await h.tenant();
    const staff = await h.user(t, 'staff');
    const at = (minute: number) => new Date(Date.parse('2026-11-01T00:00:00.000Z') + minute * 60_000).toISOString();
    // Three archive jobs staff may see, then more expunge jobs they may not than one page holds.
    for (let i = 0; i < 3; i++) await enqueueJob(h.ctx.db, at(i), { institutionId: t.institutionId, kind: 'lifecycle.bulk', payload: { input: { action: 'archive' } } });
    for (let i = 0; i < 250; i++) await enqueueJob(h.ctx.db, at(10 + i), { institutionId: t.institutionId, kind: 'lifecycle.bulk', payload: { input: { action: 'expunge' } } });
    const page = await h.request(staff.token, { method: 'GET', url: '/api/jobs?limit=2' });
    expect(page.statusCode).toBe(200);
    expect(page.json().items.map((j: { createdAt: string }) => j.createdAt)).toEqual([at(2), at(1)]);
    const all = await h.request(staff.token, { method: 'GET', url: '/api/jobs?limit=50' });
    expect(all.json().items).toHaveLength(3);
    // An administrator sees the newest 50 of them all.
    const admin = await h.request(t.admin.token, { method: 'GET', url: '/api/jobs?limit=50' });
    expect(admin.json().items).toHaveLength(50);
    expect(admin.json().items[0].createdAt).toBe(at(259));
  });

  it('a drain-only worker (lethe worker --once) runs every job, follow-ups included, with no loop of its own competing', async () => {
    const t = await h.tenant();
    const ran: number[] = [];
    // Each job queues the next: a drain must keep going until none is left.
    const chain: JobHandler = async (ctx, job) => {
      const { n } = JSON.parse(job.payload);
      ran.push(n);
      if (n < 5) await enqueueJob(ctx.db, h.clock.now().toISOString(), { institutionId: t.institutionId, kind: 'chain', payload: { n: n + 1 } });
      return {};
    };
    await enqueueJob(h.ctx.db, h.clock.now().toISOString(), { institutionId: t.institutionId, kind: 'chain', payload: { n: 1 } });
    const worker = startWorker(h.ctx, { handlers: { chain }, pollMs: 1, loop: false });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ran).toEqual([]); // no background loop took anything
    expect(await worker.drain()).toBe(5);
    await worker.stop();
    expect(ran).toEqual([1, 2, 3, 4, 5]);
  });

  it('resumes a job whose worker died from its checkpoint once the lease expires', async () => {
    const t = await h.tenant();
    await enqueueJob(h.ctx.db, h.clock.now().toISOString(), { institutionId: t.institutionId, kind: 'resumable', payload: {} });
    const first = await claimNextJob(h.ctx, 'dead-worker', ['resumable'], 30_000);
    expect(first).not.toBeNull();
    await h.ctx.db.updateTable('jobs').set({ checkpoint: JSON.stringify({ next: 7 }) }).where('id', '=', first!.id).execute();
    // another worker cannot take it while the lease holds
    expect(await claimNextJob(h.ctx, 'w2', ['resumable'], 30_000)).toBeNull();
    h.clock.advance(31_000);
    let resumedFrom: unknown = null;
    await runOneJob(h.ctx, { handlers: { resumable: async (_c, _j, control) => (resumedFrom = control.checkpoint()) } }, 'w2');
    expect(resumedFrom).toEqual({ next: 7 });
  });

  it('retries a failing job with backoff and gives up after max attempts', async () => {
    const t = await h.tenant();
    const id = await enqueueJob(h.ctx.db, h.clock.now().toISOString(), { institutionId: t.institutionId, kind: 'flaky', payload: {}, maxAttempts: 2 });
    const flaky: JobHandler = async () => {
      throw new Error('downstream unavailable');
    };
    await runOneJob(h.ctx, { handlers: { flaky } }, 'w');
    expect(await runOneJob(h.ctx, { handlers: { flaky } }, 'w')).toBe(false); // backing off
    h.clock.advance(10_000);
    await runOneJob(h.ctx, { handlers: { flaky } }, 'w');
    const row = await h.ctx.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'failed', attempts: 2, error: 'downstream unavailable' });
  });
});
