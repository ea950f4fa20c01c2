import { expect, it } from 'vitest';
import { describeEachEngine, type Harness, type SeededTenant } from '../../../test/support/harness.ts';
import { contactsApi } from '../../../test/support/contacts.ts';
import { listAudit } from '../../audit/audit-log.ts';
import { runOneJob } from '../../jobs/worker.ts';
import { jobHandlers } from '../../jobs/registry.ts';
import { writeIntakeSettings } from '../settings.ts';
import { writeLifecycleSettings } from '../../lifecycle/settings.ts';
import { addToSuppressionList } from '../../lifecycle/suppression.ts';
import { createOrResumeFileImport, ImportTakenOver, runImport } from './imports.ts';

async function drainJobs(h: Harness): Promise<void> {
  while (await runOneJob(h.ctx, { handlers: jobHandlers }, 'test-worker'));
}

async function upload(h: Harness, t: SeededTenant, csv: string | Buffer, query = '') {
  return h.request(t.admin.token, { method: 'POST', url: `/api/imports${query}`, headers: { 'content-type': 'text/csv' }, payload: csv });
}

async function contactsOf(h: Harness, institutionId: string) {
  return h.ctx.db.selectFrom('contacts').selectAll().where('institution_id', '=', institutionId).orderBy('id').execute();
}

const emailOrMobileAndLastName = { duplicateRule: { identifier: 'email_or_mobile' as const, lastName: true, ssn: 'none' as const } };

describeEachEngine('bulk CSV import', (h) => {
  it('imports an upload through a job: dedupe against the store and within the file, validation, summary, progress and error report', async () => {
    const t = await h.tenant();
    await writeIntakeSettings(h.ctx.db, t.institutionId, emailOrMobileAndLastName);
    const api = contactsApi(h, t.admin.token);
    await api.defineAttribute({ key: 'program', label: 'Program', type: 'choice', options: ['Law', 'Medicine'] });
    const ann = await api.createContact({ firstName: 'Ann', lastName: 'Lee', email: 'ann@example.org' });
    const csv = [
      'First Name,Last Name,E-mail,Mobile,Program,Employer',
      'Ann,Lee,ANN@example.org,,Law,', // row 2: the stored Ann (email + last name)
      'Bob,Stone,bob@example.org,+1 212 555 0101,Medicine,Acme', // row 3: new
      'Bobby,Stone,,+1 (212) 555-0101,,', // row 4: row 3 again (mobile + last name)
      'Cara,Diaz,not-an-email,,Dentistry,', // row 5: two errors
      'Dan,Park,ann@example.org,,,', // row 6: Ann's email, another last name: not a duplicate under this rule
      ',,,,,', // row 7: blank
      'Eve,Moss,eve@example.org,,,', // row 8: new
    ].join('\n');
    const res = await upload(h, t, csv, '?fileName=people.csv');
    expect(res.statusCode, res.body).toBe(202);
    const { import: created, job } = res.json();
    expect(res.headers.location).toBe(`/api/imports/${created.id}`);
    expect(created).toMatchObject({ status: 'pending', fileName: 'people.csv', rows: { total: 7, done: 0 }, onDuplicate: 'skip', organizationId: t.organizationIds[0] });
    expect(created.mapping.map((m: { field: string | null }) => m.field)).toEqual(['firstName', 'lastName', 'email', 'mobilePhone', 'attr:program', 'employer']);
    expect(job).toMatchObject({ kind: 'import.csv', status: 'queued', progress: { done: 0, total: 7 } });

    await drainJobs(h);

    const view = (await h.request(t.admin.token, { method: 'GET', url: `/api/imports/${created.id}` })).json();
    expect(view).toMatchObject({
      status: 'succeeded',
      rows: { total: 7, done: 7 },
      summary: { created: 3, updated: 0, skippedDuplicate: 2, invalid: 1, suppressed: 0, blank: 1 },
      error: null,
    });
    const jobView = (await h.request(t.admin.token, { method: 'GET', url: `/api/jobs/${job.id}` })).json();
    expect(jobView).toMatchObject({ status: 'succeeded', progress: { done: 7, total: 7, percent: 100 }, result: { status: 'succeeded', created: 3 } });

    const contacts = await contactsOf(h, t.institutionId);
    expect(contacts.map((c) => `${c.first_name} ${c.last_name}`).sort()).toEqual(['Ann Lee', 'Bob Stone', 'Dan Park', 'Eve Moss']);
    const bob = contacts.find((c) => c.first_name === 'Bob')!;
    expect(bob).toMatchObject({ source: 'bulk_import', mobile_e164: '+12125550101', organization_id: t.organizationIds[0], approval_status: 'approved' });
    expect(Date.parse(bob.created_at)).toBe(h.clock.now().getTime());
    const profile = await api.get(`/api/contacts/${bob.id}`);
    expect(profile).toMatchObject({ attributes: { program: 'Medicine' }, employer: { name: 'Acme' } });
    expect((await api.get(`/api/contacts/${ann.id}`)).updatedAt).toBe(ann.updatedAt);

    const events = await h.ctx.db.selectFrom('activity_events').select(['contact_id', 'data']).where('institution_id', '=', t.institutionId).where('type', '=', 'contact.created').execute();
    const imported = events.filter((e) => JSON.parse(e.data!).importId === created.id);
    expect(imported.map((e) => e.contact_id).sort()).toEqual(contacts.filter((c) => c.source === 'bulk_import').map((c) => c.id).sort());
    expect(JSON.parse(imported[0].data!)).toMatchObject({ source: 'bulk_import' });

    const audit = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'import.*', limit: 10 });
    expect(audit.map((a) => a.action).sort()).toEqual(['import.chunk', 'import.create', 'import.finish']);
    const chunk = audit.find((a) => a.action === 'import.chunk')!;
    expect((chunk.meta!.created as string[]).sort()).toEqual(imported.map((e) => e.contact_id).sort());
    expect(JSON.stringify(chunk)).not.toContain('bob@example.org');

    const errors = await h.request(t.admin.token, { method: 'GET', url: `/api/imports/${created.id}/errors.csv` });
    expect(errors.statusCode).toBe(200);
    expect(errors.headers['content-type']).toMatch(/^text\/csv/);
    expect(errors.body).toBe(
      'row,field,message\n5,email,"Enter a valid email address, like name@example.com."\n5,attributes.program,"must be one of: Law, Medicine"\n',
    );

    // The uploaded file is gone; a follow-up scan for possible duplicates is queued and has run.
    expect(await h.ctx.db.selectFrom('import_file_chunks').select('seq').where('import_id', '=', created.id).execute()).toEqual([]);
    const scans = await h.ctx.db.selectFrom('jobs').select(['status', 'payload']).where('institution_id', '=', t.institutionId).where('kind', '=', 'possible-duplicates.scan').execute();
    expect(scans).toHaveLength(1);
    expect(scans[0].status).toBe('succeeded');

    // Another institution sees none of it.
    const other = await h.tenant();
    for (const url of [`/api/imports/${created.id}`, `/api/imports/${created.id}/errors.csv`]) {
      expect((await h.request(other.admin.token, { method: 'GET', url })).statusCode).toBe(404);
    }
    expect((await h.request(other.admin.token, { method: 'GET', url: '/api/imports' })).json().items).toEqual([]);
    // An employer user may not import.
    const employerUser = await h.user(t, 'employer_user');
    expect((await h.request(employerUser.token, { method: 'POST', url: '/api/imports', headers: { 'content-type': 'text/csv' }, payload: csv })).statusCode).toBe(403);
  });

  it('applies the duplicate policy: fill_empty fills only what is missing, overwrite replaces; each changed contact is audited with before and after', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    const ann = await api.createContact({ firstName: 'Ann', lastName: 'Lee', email: 'ann@example.org' });
    const csv = 'First Name,Last Name,Email,Phone\nAnnie,Lee,ann@example.org,+1 212 555 0199\n';

    let res = await upload(h, t, csv, '?onDuplicate=fill_empty');
    expect(res.statusCode, res.body).toBe(202);
    await drainJobs(h);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/imports/${res.json().import.id}` })).json().summary).toMatchObject({ created: 0, updated: 1, skippedDuplicate: 0 });
    let profile = await api.get(`/api/contacts/${ann.id}`);
    expect(profile).toMatchObject({ firstName: 'Ann', mobileE164: '+12125550199' });

    const again = await upload(h, t, csv, '?onDuplicate=fill_empty');
    await drainJobs(h);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/imports/${again.json().import.id}` })).json().summary).toMatchObject({ updated: 0, skippedDuplicate: 1 });

    res = await upload(h, t, csv, '?onDuplicate=overwrite');
    await drainJobs(h);
    profile = await api.get(`/api/contacts/${ann.id}`);
    expect(profile.firstName).toBe('Annie');
    expect((await contactsOf(h, t.institutionId)).length).toBe(1);

    const updates = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'contact.update', targetId: ann.id, limit: 10 });
    expect(updates.map((u) => u.after)).toEqual([{ firstName: 'Annie' }, { mobilePhone: '+1 212 555 0199' }]);
    expect(updates[0]).toMatchObject({ before: { firstName: 'Ann' }, meta: { importId: res.json().import.id, policy: 'overwrite', row: 2 } });
    const activity = await h.ctx.db.selectFrom('activity_events').select(['type', 'data']).where('contact_id', '=', ann.id).where('type', '=', 'contact.updated').execute();
    expect(activity.map((a) => JSON.parse(a.data!).fields)).toEqual([['mobilePhone'], ['firstName']]);
  });

  it('keeps SSNs only as keyed hashes, and lets a full-SSN rule decide duplicates', async () => {
    const t = await h.tenant();
    await writeIntakeSettings(h.ctx.db, t.institutionId, { duplicateRule: { identifier: 'email', lastName: false, ssn: 'full' } });
    const csv = [
      'First Name,Last Name,Email,SSN',
      'Ann,Lee,ann@example.org,212-34-5678',
      'Ann,Lee,ann@example.org,345-67-8901', // same email, another full SSN: not a duplicate
      'Annie,Lee-Smith,other@example.org,212345678', // another email, the same SSN: a duplicate
      'Bob,Stone,bob@example.org,123-45',
    ].join('\n');
    const res = await upload(h, t, csv);
    expect(res.statusCode, res.body).toBe(202);
    await drainJobs(h);
    const view = (await h.request(t.admin.token, { method: 'GET', url: `/api/imports/${res.json().import.id}` })).json();
    expect(view.summary).toMatchObject({ created: 2, skippedDuplicate: 1, invalid: 1 });
    const contacts = await contactsOf(h, t.institutionId);
    expect(contacts.every((c) => /^[0-9a-f]{64}$/.test(c.ssn_hash_full!) && /^[0-9a-f]{64}$/.test(c.ssn_hash_last4!))).toBe(true);
    expect(new Set(contacts.map((c) => c.ssn_hash_full)).size).toBe(2);
    const everything = JSON.stringify([contacts, await h.ctx.db.selectFrom('import_errors').selectAll().execute(), await h.ctx.db.selectFrom('audit_log').selectAll().where('institution_id', '=', t.institutionId).execute(), h.logLines]);
    for (const clear of ['212-34-5678', '212345678', '345-67-8901', '345678901']) expect(everything).not.toContain(clear);
    const errors = (await h.request(t.admin.token, { method: 'GET', url: `/api/imports/${res.json().import.id}/errors.csv` })).body;
    expect(errors).toMatch(/^row,field,message\n5,ssn,/);
  });

  it('does not bring back people on the suppression list when the institution keeps one', async () => {
    const t = await h.tenant();
    const csv = 'First Name,Last Name,Email,Mobile\nGone,Person,gone@example.org,\nGone,Phone,,+1 212 555 0142\nNew,Person,new@example.org,\n';
    await addToSuppressionList(h.ctx, h.ctx.db, t.institutionId, [{ email: 'gone@example.org', mobileE164: null }, { email: null, mobileE164: '+12125550142' }], h.clock.now().toISOString());
    // The list is off by default: everyone is imported.
    let res = await upload(h, t, csv);
    await drainJobs(h);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/imports/${res.json().import.id}` })).json().summary).toMatchObject({ created: 3, suppressed: 0 });
    const other = await h.tenant();
    await addToSuppressionList(h.ctx, h.ctx.db, other.institutionId, [{ email: 'gone@example.org', mobileE164: null }, { email: null, mobileE164: '+12125550142' }], h.clock.now().toISOString());
    await writeLifecycleSettings(h.ctx.db, other.institutionId, { suppressionList: true });
    res = await upload(h, other, csv);
    await drainJobs(h);
    expect((await h.request(other.admin.token, { method: 'GET', url: `/api/imports/${res.json().import.id}` })).json().summary).toMatchObject({ created: 1, suppressed: 2 });
    expect((await contactsOf(h, other.institutionId)).map((c) => c.email)).toEqual(['new@example.org']);
  });

  it('refuses a malformed or unmappable upload with a clear 422 and keeps nothing of it', async () => {
    const t = await h.tenant();
    const cases: [string | Buffer, RegExp, string?][] = [
      ['First Name,Last Name,Email\nAnn,"Lee,ann@example.org\nBob,Stone,bob@example.org\n', /quote opened at row 2 .*never closed/],
      [Buffer.concat([Buffer.from('First Name,Last Name\nZo'), Buffer.from([0xeb]), Buffer.from(',Lee\n')]), /not UTF-8 text \(line 2/],
      [`First Name,Last Name\nAnn,${'x'.repeat(300_000)}\n`, /longer than 256 KiB/],
      ['First Name,Email\nAnn,ann@example.org\n', /No column holds the contact's lastName/],
      ['First Name,Surname\nAnn,Lee\n', /file has no column "Nom"/, '?mapping=Nom%3DlastName'],
      ['', /empty/],
      ['First Name,Last Name\n', /no rows/],
    ];
    for (const [csv, message, query] of cases) {
      const res = await upload(h, t, csv, query ?? '');
      expect(res.statusCode, res.body).toBe(422);
      expect(res.json().detail).toMatch(message);
    }
    expect(await h.ctx.db.selectFrom('imports').select('id').where('institution_id', '=', t.institutionId).execute()).toEqual([]);
    expect(await h.count('import_file_chunks')).toBe(0);
    expect(await h.ctx.db.selectFrom('jobs').select('id').where('institution_id', '=', t.institutionId).where('kind', '=', 'import.csv').execute()).toEqual([]);

    // An override that maps "Surname" makes the same file importable.
    const ok = await upload(h, t, 'First Name,Nom\nAnn,Lee\n', '?mapping=Nom%3DlastName');
    expect(ok.statusCode, ok.body).toBe(202);

    const limit = h.ctx.config.importMaxBytes;
    h.ctx.config.importMaxBytes = 64;
    try {
      const big = await upload(h, t, `First Name,Last Name\n${'Ann,Lee\n'.repeat(20)}`);
      expect(big.statusCode).toBe(413);
      expect(big.json().detail).toMatch(/larger than/);
    } finally {
      h.ctx.config.importMaxBytes = limit;
    }
    expect(await h.ctx.db.selectFrom('imports').select('id').where('institution_id', '=', t.institutionId).execute()).toHaveLength(1);
  });

  it('accepts a multipart form with options as fields before the file', async () => {
    const t = await h.tenant();
    const boundary = '----lethe-test-boundary';
    const body = [
      `--${boundary}`,
      'Content-Disposition: form-data; name="onDuplicate"',
      '',
      'overwrite',
      `--${boundary}`,
      'Content-Disposition: form-data; name="organizationId"',
      '',
      'Alumni',
      `--${boundary}`,
      'Content-Disposition: form-data; name="file"; filename="alumni.csv"',
      'Content-Type: text/csv',
      '',
      'Prénom,Nom,Courriel\nZoé,Durand,zoe@example.org\n',
      `--${boundary}--`,
      '',
    ].join('\r\n');
    const res = await h.request(t.admin.token, { method: 'POST', url: '/api/imports', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: body });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().import).toMatchObject({ fileName: 'alumni.csv', onDuplicate: 'overwrite', organizationId: t.organizationIds[1] });
    await drainJobs(h);
    const [zoe] = await contactsOf(h, t.institutionId);
    expect(zoe).toMatchObject({ first_name: 'Zoé', last_name: 'Durand', email_normalized: 'zoe@example.org', organization_id: t.organizationIds[1] });
  });

  it('resumes after a crash from the checkpoint committed with each chunk: nothing twice, nothing missing', async () => {
    const t = await h.tenant();
    const lines = ['First Name,Last Name,Email'];
    // Row index 4 opens the second chunk and repeats row 3's email: a duplicate across a chunk boundary.
    for (let i = 0; i < 25; i++) lines.push(i === 11 ? 'Bad,Row,nope' : i === 4 ? 'Dup,Resume,p3@example.org' : `P${i},Resume,p${i}@example.org`);
    const fs = await import('node:fs');
    const path = await import('node:path');
    const file = path.join(h.database.dataDir, 'resume.csv');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const chunkRows = h.ctx.config.importChunkRows;
    h.ctx.config.importChunkRows = 4;
    try {
      const options = { institutionId: t.institutionId, organizationId: t.organizationIds[0], fileName: 'resume.csv', mapping: {}, onDuplicate: 'skip' as const, actor: { userId: null, label: 'cli' } };
      const { row } = await createOrResumeFileImport(h.ctx, file, options);
      // The process "dies" right after its third chunk committed.
      await expect(
        runImport(h.ctx, row.id, {
          onProgress: (done) => {
            if (done === 12) throw new Error('killed');
          },
        }),
      ).rejects.toThrow('killed');
      expect((await contactsOf(h, t.institutionId)).length).toBe(10);
      const again = await createOrResumeFileImport(h.ctx, file, options);
      expect(again).toMatchObject({ resumed: true, row: { id: row.id, rows_done: 12 } });
      const done = await runImport(h.ctx, row.id);
      expect(done).toMatchObject({ status: 'succeeded', rows_done: 25, created_count: 23, invalid_count: 1, duplicate_count: 1 });
      const contacts = await contactsOf(h, t.institutionId);
      expect(contacts.map((c) => c.email).sort()).toEqual(Array.from({ length: 25 }, (_, i) => i).filter((i) => i !== 11 && i !== 4).map((i) => `p${i}@example.org`).sort());
      expect(await h.ctx.db.selectFrom('import_errors').select(['row_number', 'field']).where('import_id', '=', row.id).execute()).toEqual([{ row_number: 13, field: 'email' }]);
      // A run that finds the checkpoint moved by another process stops before writing its chunk.
      const second = path.join(h.database.dataDir, 'race.csv');
      fs.writeFileSync(second, ['First Name,Last Name,Email', ...Array.from({ length: 12 }, (_, i) => `R${i},Race,r${i}@example.org`)].join('\n') + '\n');
      const raced = await createOrResumeFileImport(h.ctx, second, { ...options, fileName: 'race.csv' });
      await expect(
        runImport(h.ctx, raced.row.id, {
          onProgress: async (done) => {
            if (done === 4) await h.ctx.db.updateTable('imports').set({ rows_done: 8 }).where('id', '=', raced.row.id).execute();
          },
        }),
      ).rejects.toThrow(ImportTakenOver);
      expect((await contactsOf(h, t.institutionId)).filter((c) => c.last_name === 'Race')).toHaveLength(4);
    } finally {
      h.ctx.config.importChunkRows = chunkRows;
    }
  });
});
