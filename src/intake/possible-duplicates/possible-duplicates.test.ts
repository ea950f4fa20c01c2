import { expect, it } from 'vitest';
import { describeEachEngine, type Harness } from '../../../test/support/harness.ts';
import { contactsApi } from '../../../test/support/contacts.ts';
import { runOneJob } from '../../jobs/worker.ts';
import { jobHandlers } from '../../jobs/registry.ts';

async function drainJobs(h: Harness): Promise<void> {
  while (await runOneJob(h.ctx, { handlers: jobHandlers }, 'test-worker'));
}

describeEachEngine('possible duplicates', (h) => {
  it('a scan queues same-name contacts with a similar phone or email, or at one employer, best first; dismissed pairs stay dismissed', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const acme = await api.createEmployer('Acme');
    const a1 = await api.createContact({ firstName: 'Ann', lastName: 'Lee', email: 'ann.lee@work.org', mobilePhone: '+1 212 555 0100' });
    const a2 = await api.createContact({ firstName: 'ANN', lastName: 'Lée', email: 'ann.lee@home.net' });
    const a3 = await api.createContact({ firstName: 'Ann', lastName: 'Lee', mobilePhone: '+1 312 555 0100' });
    const b1 = await api.createContact({ firstName: 'Bob', lastName: 'Stone', employerId: acme.id });
    const b2 = await api.createContact({ firstName: 'Bob', lastName: 'Stone', employerId: acme.id });
    await api.createContact({ firstName: 'Cara', lastName: 'Diaz', email: 'cara@x.org' });
    await api.createContact({ firstName: 'Cara', lastName: 'Diaz', email: 'zed@y.org' });
    await api.createContact({ firstName: 'Ann', lastName: 'Leigh', email: 'ann.leigh@work.org' });

    const scan = await h.request(t.admin.token, { method: 'POST', url: '/api/possible-duplicates/scan' });
    expect(scan.statusCode, scan.body).toBe(202);
    await drainJobs(h);
    const job = (await h.request(t.admin.token, { method: 'GET', url: `/api/jobs/${scan.json().id}` })).json();
    expect(job).toMatchObject({ status: 'succeeded', result: { contactsScanned: 8, pairs: 3 } });

    const pair = (p: { contacts: { id: string }[] }) => p.contacts.map((c) => c.id).sort();
    const first = (await h.request(t.admin.token, { method: 'GET', url: '/api/possible-duplicates?limit=2' })).json();
    expect(first.items.map(pair)).toEqual([[a1.id, a3.id].sort(), [a1.id, a2.id].sort()]);
    expect(first.items[0]).toMatchObject({ score: 0.85, status: 'open', reasons: [{ code: 'mobile_last6' }] });
    expect(first.items[1]).toMatchObject({ score: 0.8, reasons: [{ code: 'email_other_domain' }] });
    expect(JSON.stringify(first.items.map((i: { reasons: unknown }) => i.reasons))).not.toMatch(/@|555/);
    const second = (await h.request(t.admin.token, { method: 'GET', url: `/api/possible-duplicates?limit=2&after=${first.nextCursor}` })).json();
    expect(second.items.map(pair)).toEqual([[b1.id, b2.id].sort()]);
    expect(second.items[0]).toMatchObject({ score: 0.6, reasons: [{ code: 'same_employer' }] });
    expect(second.nextCursor).toBeNull();

    const dismissed = await h.request(t.admin.token, { method: 'POST', url: `/api/possible-duplicates/${first.items[1].id}/dismiss` });
    expect(dismissed.statusCode).toBe(204);
    await h.request(t.admin.token, { method: 'POST', url: '/api/possible-duplicates/scan' });
    await drainJobs(h);
    const open = (await h.request(t.admin.token, { method: 'GET', url: '/api/possible-duplicates' })).json();
    expect(open.items.map(pair)).toEqual([[a1.id, a3.id].sort(), [b1.id, b2.id].sort()]);
    const gone = (await h.request(t.admin.token, { method: 'GET', url: '/api/possible-duplicates?status=dismissed' })).json();
    expect(gone.items.map(pair)).toEqual([[a1.id, a2.id].sort()]);
    expect(gone.items[0].dismissedAt).not.toBeNull();
    const byContact = (await h.request(t.admin.token, { method: 'GET', url: `/api/possible-duplicates?contactId=${b2.id}` })).json();
    expect(byContact.items.map(pair)).toEqual([[b1.id, b2.id].sort()]);

    const other = await h.tenant();
    expect((await h.request(other.admin.token, { method: 'GET', url: '/api/possible-duplicates' })).json().items).toEqual([]);
    expect((await h.request(other.admin.token, { method: 'POST', url: `/api/possible-duplicates/${open.items[0].id}/dismiss` })).statusCode).toBe(404);
    const staff = await h.user(t, 'staff');
    expect((await h.request(staff.token, { method: 'GET', url: '/api/possible-duplicates' })).statusCode).toBe(403);
  });

  it('an import queues possible duplicates of the contacts it created, without a full scan', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const dan = await api.createContact({ firstName: 'Dan', lastName: 'Park', email: 'dan@old-job.org' });
    await api.createContact({ firstName: 'Fay', lastName: 'Ray', email: 'fay@a.org' });
    await api.createContact({ firstName: 'Fay', lastName: 'Ray', email: 'fay@b.org' }); // a pair only a full scan would find
    h.clock.advance(1000);
    const res = await h.request(t.admin.token, {
      method: 'POST',
      url: '/api/imports',
      headers: { 'content-type': 'text/csv' },
      payload: 'First Name,Last Name,Email\nDan,Park,dan@new-job.org\nEve,Moss,eve@example.org\n',
    });
    expect(res.statusCode, res.body).toBe(202);
    await drainJobs(h);
    const list = (await h.request(t.admin.token, { method: 'GET', url: '/api/possible-duplicates' })).json();
    expect(list.items).toHaveLength(1);
    expect(list.items[0].contacts.map((c: { id: string }) => c.id)).toContain(dan.id);
    expect(list.items[0].reasons.map((r: { code: string }) => r.code)).toEqual(['email_other_domain']);
    const scans = await h.ctx.db.selectFrom('jobs').select(['payload', 'result']).where('institution_id', '=', t.institutionId).where('kind', '=', 'possible-duplicates.scan').execute();
    expect(scans).toHaveLength(1);
    expect(JSON.parse(scans[0].payload)).toMatchObject({ importId: res.json().import.id });
    expect(JSON.parse(scans[0].result!)).toMatchObject({ contactsScanned: 2, pairs: 1 });
  });

  it('queues close names within a household or an employer, but not a family sharing an address', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const initech = await api.createEmployer('Initech');
    const jon = await api.createContact({ firstName: 'Jon', lastName: 'Smith', email: 'smiths@home.org' });
    const john = await api.createContact({ firstName: 'John', lastName: 'Smith', email: 'smiths@home.org', onDuplicate: 'create_anyway' });
    await api.createContact({ firstName: 'Ada', lastName: 'Lovelace', mobilePhone: '+1 212 555 0177' });
    await api.createContact({ firstName: 'Byron', lastName: 'Lovelace', mobilePhone: '+1 212 555 0177' }); // a family: not queued
    const alex = await api.createContact({ firstName: 'Alex', lastName: 'Moreau', employerId: initech.id });
    const alexander = await api.createContact({ firstName: 'Alexander', lastName: 'Moreau', employerId: initech.id });
    await api.createContact({ firstName: 'Alex', lastName: 'Moreau' }); // same name, nothing shared: not queued

    const scan = await h.request(t.admin.token, { method: 'POST', url: '/api/possible-duplicates/scan' });
    expect(scan.statusCode, scan.body).toBe(202);
    await drainJobs(h);
    const pair = (p: { contacts: { id: string }[] }) => p.contacts.map((c) => c.id).sort();
    const items = (await h.request(t.admin.token, { method: 'GET', url: '/api/possible-duplicates' })).json().items;
    expect(items.map(pair)).toEqual([[jon.id, john.id].sort(), [alex.id, alexander.id].sort()]);
    expect(items[0]).toMatchObject({ score: 0.8, reasons: [{ code: 'similar_name_same_email' }] });
    expect(items[1]).toMatchObject({ score: 0.5, reasons: [{ code: 'similar_name_same_employer' }] });

    // After an import, the new contacts are compared with the household they join.
    h.clock.advance(1000);
    const res = await h.request(t.admin.token, {
      method: 'POST',
      url: '/api/imports',
      headers: { 'content-type': 'text/csv' },
      payload: 'First Name,Last Name,Mobile\nAdah,Lovelace,+1 212 555 0177\n',
    });
    expect(res.statusCode, res.body).toBe(202);
    await drainJobs(h);
    const adah = await h.ctx.db.selectFrom('contacts').select('id').where('institution_id', '=', t.institutionId).where('first_name', '=', 'Adah').executeTakeFirstOrThrow();
    const after = (await h.request(t.admin.token, { method: 'GET', url: `/api/possible-duplicates?contactId=${adah.id}` })).json().items;
    expect(after).toHaveLength(1);
    expect(after[0].reasons.map((r: { code: string }) => r.code)).toEqual(['similar_name_same_mobile']);
    expect(after[0].contacts.map((c: { firstName?: string; id: string }) => c.id)).not.toContain(
      (await h.ctx.db.selectFrom('contacts').select('id').where('institution_id', '=', t.institutionId).where('first_name', '=', 'Byron').executeTakeFirstOrThrow()).id,
    );
  });
});
