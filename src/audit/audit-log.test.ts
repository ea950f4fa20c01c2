import { expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from '../../test/support/harness.ts';
import { recordAudit, listAudit, systemActor } from './audit-log.ts';
import { verifyAuditLog } from './verify.ts';
import { destroyDataKey } from './data-keys.ts';
import { migrations } from '../db/migrations/index.ts';

const latestMigration = Object.keys(migrations).at(-1);

describeEachEngine('audit log', (h) => {
  it('serves health with the database kind and migration', async () => {
    const res = await h.request(null, { method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', database: h.kind, migration: latestMigration });
  });

  it('chains entries, seals PII per subject and shreds it with the key', async () => {
    const t = await h.tenant();
    await recordAudit(h.ctx, h.ctx.db, {
      institutionId: t.institutionId,
      actor: systemActor,
      action: 'contact.update',
      target: { type: 'contact', id: 'c-1' },
      subjectId: 'c-1',
      before: { email: 'old@example.org' },
      after: { email: 'new@example.org' },
    });
    const raw = await h.ctx.db.selectFrom('audit_log').selectAll().where('target_id', '=', 'c-1').executeTakeFirstOrThrow();
    expect(raw.after_enc).not.toContain('new@example.org');
    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, targetId: 'c-1', limit: 10 });
    expect(entry.after).toEqual({ email: 'new@example.org' });
    expect((await verifyAuditLog(h.ctx.db)).ok).toBe(true);

    await destroyDataKey(h.ctx.db, 'c-1');
    const [shredded] = await listAudit(h.ctx, { institutionId: t.institutionId, targetId: 'c-1', limit: 10 });
    expect(shredded).toMatchObject({ shredded: true, after: null, before: null });
    expect((await verifyAuditLog(h.ctx.db)).ok).toBe(true);
  });

  it('audit verify detects an edited entry and a removed entry', async () => {
    const t = await h.tenant();
    for (let i = 0; i < 4; i++) {
      await recordAudit(h.ctx, h.ctx.db, { institutionId: t.institutionId, actor: systemActor, action: `test.${i}`, target: { type: 'x', id: `x${i}` } });
    }
    const rows = await h.ctx.db.selectFrom('audit_log').select(['seq', 'action']).where('chain', '=', t.institutionId).orderBy('seq').execute();
    const edited = rows.find((r) => r.action === 'test.1')!;
    await h.ctx.db.updateTable('audit_log').set({ action: 'test.tampered' }).where('seq', '=', edited.seq).execute();
    let result = await verifyAuditLog(h.ctx.db);
    expect(result.ok).toBe(false);
    expect(result.problems).toContainEqual(expect.objectContaining({ seq: Number(edited.seq), problem: expect.stringContaining('edited') }));

    await h.ctx.db.updateTable('audit_log').set({ action: 'test.1' }).where('seq', '=', edited.seq).execute();
    expect((await verifyAuditLog(h.ctx.db)).ok).toBe(true);
    const removed = rows.find((r) => r.action === 'test.2')!;
    await h.ctx.db.deleteFrom('audit_log').where('seq', '=', removed.seq).execute();
    result = await verifyAuditLog(h.ctx.db);
    expect(result.problems.some((p) => p.problem.includes('removed'))).toBe(true);

    const last = rows.at(-1)!;
    await sql`delete from audit_log where seq = ${last.seq}`.execute(h.ctx.db);
    result = await verifyAuditLog(h.ctx.db);
    expect(result.problems.some((p) => p.problem.includes('newest entries'))).toBe(true);
  });
});
