import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { listAudit } from '../audit/audit-log.ts';
import { verifyAuditLog } from '../audit/verify.ts';
import { dumpRows, ensureEmployer, richContact } from './test-fixtures.ts';

describeEachEngine('delete with cascade (seed 001)', (h) => {
  it('removes the contact and every record attached to it, counted in every table; another contact keeps all of theirs', async () => {
    const t = await h.tenant();
    const acme = await ensureEmployer(h, t.admin.token, 'Acme Corp');
    const hook = await h.request(t.admin.token, { method: 'POST', url: '/api/webhooks', payload: { url: 'http://127.0.0.1:9/hook', events: ['contact.deleted'] } });
    expect(hook.statusCode).toBe(201);
    const marker = `Del${Date.now().toString(36)}`;
    const doomed = await richContact(h, t, `${marker}A`, acme);
    const kept = await richContact(h, t, `${marker}B`, acme);
    const ids = [doomed.id, ...Object.values(doomed.related)];
    const mentions = (row: string, values: string[]) => values.some((v) => row.includes(v));

    const before = await dumpRows(h);
    const res = await h.request(t.admin.token, { method: 'DELETE', url: `/api/contacts/${doomed.id}?reason=staff_decision` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ outcome: 'changed', lifecycle: null });
    const after = await dumpRows(h);
    // On PostgreSQL, erasure also queues the page scrub (a job naming tables, nothing about the contact).
    after.set('jobs', after.get('jobs')!.filter((r) => !r.includes('"lifecycle.scrub"') || before.get('jobs')!.includes(r)));

    // What may stay about a deleted contact, and why: the audit history (sealed with the contact's
    // key, which delete keeps until audit retention; expunge destroys it), and the webhook event.
    const exceptions: Record<string, (row: string) => boolean> = {
      audit_log: (row) => !mentions(row, doomed.values),
      data_keys: () => true,
      webhook_deliveries: (row) => row.includes('"contact.deleted"') && !mentions(row, doomed.values),
    };
    for (const [table, rows] of before) {
      const referencing = rows.filter((r) => mentions(r, ids) || mentions(r, doomed.values));
      const left = after.get(table)!.filter((r) => mentions(r, ids) || mentions(r, doomed.values));
      if (table in exceptions) {
        expect(left.every(exceptions[table]), `${table}: ${left.join('\n')}`).toBe(true);
        continue;
      }
      expect(left, `${table} still holds rows of the deleted contact`).toEqual([]);
      expect(after.get(table)!.length, `${table}: ${rows.length} before, ${referencing.length} of them the contact's`).toBe(rows.length - referencing.length);
      // The other contact's rows are all still there, unchanged.
      for (const r of rows.filter((r) => mentions(r, [kept.id, ...Object.values(kept.related)]))) expect(after.get(table)).toContain(r);
    }
    // Row counts of the tables the seed names, explicitly.
    const count = (m: Map<string, string[]>, table: string) => m.get(table)!.length;
    for (const table of ['contacts', 'contact_notes', 'contact_meetings', 'contact_tasks', 'applications', 'contact_authorizations', 'contact_employments', 'project_contacts', 'sequence_enrollments']) {
      expect(count(after, table), table).toBe(count(before, table) - 1);
    }
    expect(count(after, 'activity_events')).toBeLessThan(count(before, 'activity_events'));
    expect(count(after, 'audit_log')).toBe(count(before, 'audit_log') + 1);

    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'contact.delete', targetId: doomed.id, limit: 1 });
    expect(entry).toMatchObject({
      actorUserId: t.adminUserId,
      before: null,
      after: null,
      meta: { reason: 'staff_decision', via: 'staff', removed: { contact_notes: 1, contact_meetings: 1, contact_tasks: 1, applications: 1 } },
    });
    expect((await verifyAuditLog(h.ctx.db)).ok).toBe(true);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${doomed.id}` })).statusCode).toBe(404);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/employers/${acme}/contacts` })).json().items.map((c: { id: string }) => c.id)).toEqual([kept.id]);
  });
});
