import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { describeEachEngine, TEST_SECRET, type Harness } from '../../../test/support/harness.ts';
import { contactsApi } from '../../../test/support/contacts.ts';

/** `lethe import` as an operator runs it: a real child process, its output through pipes. */

const bin = path.resolve('bin/lethe.js');

function lethe(h: Harness, args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, LETHE_DATA_DIR: h.database.dataDir, LETHE_SECRET: TEST_SECRET, LOG_LEVEL: 'warn', LETHE_IMPORT_CHUNK_ROWS: '2' };
  delete env.DATABASE_URL;
  if (h.database.url) env.DATABASE_URL = h.database.url;
  return spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 60_000 });
}

describeEachEngine('lethe import (CLI)', (h) => {
  it('maps columns with --mapping, reads a BOM file, fills an existing contact, writes the error report and shows progress', async () => {
    const t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    await api.defineAttribute({ key: 'cohort', label: 'Cohort', type: 'text' });
    const ann = await api.createContact({ firstName: 'Ann', lastName: 'Lee', email: 'ann.cli@example.org' });
    const file = path.join(h.database.dataDir, 'people.csv');
    const rows = [
      'Given,Family,Cell,Mail,Year,Remarks',
      'Ann,Lee,(212) 555-0150,ANN.CLI@example.org,2021,called twice', // the stored Ann: fill_empty adds the phone and cohort
      'Bo,Park,+33 6 12 34 56 78,bo.cli@example.org,2022,',
      'Cy,Ray,,not-an-email,2023,', // invalid
      'Di,Moss,,di.cli@example.org,,',
      'Ed,Stone,555,ed.cli@example.org,,', // invalid phone
      'Flo,Lane,,flo.cli@example.org,2024,',
    ];
    // A UTF-8 BOM, as spreadsheet programs write it: the first header must still be "Given".
    fs.writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(rows.join('\r\n') + '\r\n')]));
    const report = path.join(h.database.dataDir, 'errors.csv');

    const run = lethe(h, [
      'import', file, '--org', 'Career Services', '--institution', t.institutionId,
      '--mapping', 'Given=firstName,Family=lastName,Cell=mobilePhone,Mail=email,Year=attr:cohort,Remarks=',
      '--on-duplicate', 'fill_empty', '--errors', report,
    ]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('Imported people.csv (6 rows): 3 created, 1 updated, 0 skipped as duplicates, 2 invalid.');
    expect(run.stdout).toContain(`The rows that were not imported and why: ${report}.`);
    // Not a terminal: plain progress lines (this small file is read in one go), ending at 100%.
    const progress = run.stderr.split('\n').filter((l) => l.startsWith('importing: '));
    expect(progress.at(-1)).toBe('importing: 100% of the file, 6 rows');
    expect(run.stderr).not.toMatch(/\u001b\[/); // no terminal control sequences in a pipe

    expect(fs.readFileSync(report, 'utf8')).toBe(
      'row,field,message\n4,email,"Enter a valid email address, like name@example.com."\n' +
        '6,mobilePhone,"Enter a valid mobile phone number, with the country code (e.g. +1 or +33) if it is not a local number."\n',
    );
    const filled = await api.get(`/api/contacts/${ann.id}`);
    expect(filled).toMatchObject({ firstName: 'Ann', email: 'ann.cli@example.org', mobileE164: '+12125550150', attributes: { cohort: '2021' } });
    const bo = await h.ctx.db.selectFrom('contacts').selectAll().where('institution_id', '=', t.institutionId).where('email_normalized', '=', 'bo.cli@example.org').executeTakeFirstOrThrow();
    expect(bo).toMatchObject({ first_name: 'Bo', last_name: 'Park', mobile_e164: '+33612345678', source: 'bulk_import', organization_id: t.organizationIds[0] });
    const stored = JSON.stringify(await h.ctx.db.selectFrom('contacts').selectAll().where('institution_id', '=', t.institutionId).execute());
    expect(stored).not.toContain('called twice'); // the skipped column is not imported anywhere
  }, 120_000);

  it('refuses a mapping it cannot read or apply, naming the problem, and imports nothing', async () => {
    const t = await h.tenant();
    const file = path.join(h.database.dataDir, 'unmapped.csv');
    fs.writeFileSync(file, 'Given,Family\nAnn,Lee\n');
    const garbled = lethe(h, ['import', file, '--org', t.organizationIds[0], '--mapping', 'Given firstName']);
    expect(garbled.status).toBe(2);
    expect(garbled.stderr).toMatch(/--mapping: "Given firstName" is not header=field/);
    const unknownField = lethe(h, ['import', file, '--org', t.organizationIds[0], '--mapping', 'Given=firstName,Family=surname']);
    expect(unknownField.status).toBe(2);
    expect(unknownField.stderr).toMatch(/surname/);
    const noLastName = lethe(h, ['import', file, '--org', t.organizationIds[0]]);
    expect(noLastName.status).toBe(2);
    expect(noLastName.stderr).toMatch(/lastName/);
    expect(await h.ctx.db.selectFrom('contacts').select('id').where('institution_id', '=', t.institutionId).execute()).toEqual([]);
  }, 120_000);
});
