import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { download } from '../../test/support/exports.ts';
import type { JobControl } from '../jobs/worker.ts';
import { produceExport } from './produce.ts';
import { newId } from '../ids.ts';
import { exportFilePath, exportsDir } from './files.ts';
import { updateExportSettings } from './settings.ts';

const ROWS = 50_000;
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

describeEachEngine('a large export streams in constant memory', (h) => {
  it(`exports ${ROWS} contacts with bounded memory, never holding the file in clear`, { timeout: 240_000 }, async () => {
    const t = await h.tenant();
    await updateExportSettings(h.ctx.db, t.institutionId, { selfServeLimit: 100_000 });
    const { id: attributeId } = await contactsApi(h, t.admin.token).defineAttribute({ key: 'bio', label: 'Biography', type: 'text' });
    const bio = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(16); // ~900 bytes a row
    const now = h.clock.now().getTime();
    for (let from = 0; from < ROWS; from += 1000) {
      const contacts = [];
      const values = [];
      for (let i = from; i < from + 1000; i++) {
        const created = new Date(now - (ROWS - i) * 1000).toISOString();
        const id = newId(Date.parse(created));
        contacts.push({
          id, institution_id: t.institutionId, organization_id: t.organizationIds[0], first_name: `First${i}`, last_name: `Last${i}`, first_name_folded: `first${i}`, last_name_folded: `last${i}`,
          email: `person${i}@bulk.example`, email_normalized: `person${i}@bulk.example`, mobile_phone: null, mobile_e164: null, ssn_hash_full: null, ssn_hash_last6: null, ssn_hash_last4: null,
          employer_id: null, owner_user_id: null, visibility: 'everyone' as const, approval_status: 'approved' as const, source: 'bulk_import' as const, opt_in_status: 'unknown' as const,
          opt_in_changed_at: null, created_at: created, updated_at: created,
        });
        values.push({ contact_id: id, attribute_id: attributeId, institution_id: t.institutionId, value_text: `${bio}${i}`, value_number: null });
      }
      await h.ctx.db.insertInto('contacts').values(contacts).execute();
      await h.ctx.db.insertInto('contact_attribute_values').values(values).execute();
    }

    const created = await h.request(t.admin.token, { method: 'POST', url: '/api/exports', payload: { scope: { type: 'contacts', filters: { organizationId: t.organizationIds[0] } } } });
    expect(created.statusCode, created.body).toBe(202);
    const id = created.json().id;

    // Run the job with a control that looks at the file each time progress is reported: it must
    // already hold the rows read so far (streamed), and keep growing.
    const job = await h.ctx.db.selectFrom('jobs').selectAll().where('id', '=', created.json().jobId).executeTakeFirstOrThrow();
    const samples: { done: number; bytes: number; heap: number }[] = [];
    const control: JobControl = {
      workerId: 'test',
      checkpoint: () => null,
      async progress(done) {
        const part = fs.readdirSync(exportsDir(h.ctx)).find((f) => f.startsWith(id) && f.endsWith('.part'));
        gc();
        samples.push({ done, bytes: part ? fs.statSync(`${exportsDir(h.ctx)}/${part}`).size : 0, heap: process.memoryUsage().heapUsed });
      },
    };
    gc();
    const start = process.memoryUsage().heapUsed;
    await produceExport(h.ctx, { ...job, attempts: 1 }, control);
    const during = samples.filter((x) => x.done > 0 && x.done < ROWS);
    expect(during.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < during.length; i++) expect(during[i].bytes, JSON.stringify(during)).toBeGreaterThan(during[i - 1].bytes);
    expect(during[0].bytes).toBeGreaterThan(0);
    const growthMb = (Math.max(...samples.map((x) => x.heap)) - start) / 2 ** 20;
    const row = await h.ctx.db.selectFrom('exports').select(['status', 'row_count', 'file_bytes']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'ready', row_count: ROWS });
    const clearBytes = ROWS * (bio.length + 120);
    // The clear CSV is ~50 MB (~100 MB as JS strings); what the export holds at any moment (live
    // heap after a collection, at every progress report) stays a few pages' worth.
    expect(growthMb, `live heap grew ${growthMb.toFixed(1)} MB`).toBeLessThan(24);
    expect(Number(row.file_bytes)).toBeLessThan(clearBytes / 4); // compressed, then encrypted

    const { token } = (await h.request(t.admin.token, { method: 'POST', url: `/api/exports/${id}/link` })).json();
    const res = await download(h, token);
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.length).toBeGreaterThan(Number(row.file_bytes) * 0.9);
    expect(fs.existsSync(exportFilePath(h.ctx, id))).toBe(false);
  });
});
