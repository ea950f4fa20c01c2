import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeEachEngine } from './support/harness.ts';
import { work } from './support/exports.ts';
import { piiInSource, piiInTestSources, scanLogDir, scanText } from './support/pii-scan.ts';
import type { MailTransport } from '../src/mail/transport.ts';

/** The person this file's scenario feeds the app; none of these may reach a log line. */
const person = {
  firstName: 'Wilhelmina',
  lastName: 'Quarrington',
  email: 'wilhelmina.quarrington@pii-scan.example',
  mobilePhone: '+41 79 555 12 34',
  ssn: '219-09-9999',
};
const imported = { email: 'bartholomew.imported@pii-scan.example', ssn: '212-09-8877' };
const personValues = [...piiInSource(JSON.stringify(person).replace(/"(\w+)":/g, '$1:')), person.email.toLowerCase()];

describe('PII log scan: the scanner', () => {
  it('finds a known email, an SSN dashed or as 9 digits, and a phone number in E.164, and says where', () => {
    const lines = [
      '{"level":30,"msg":"request","route":"/api/contacts","status":201}',
      `{"level":40,"msg":"mail send failed","error":"550 <${person.email.toUpperCase()}>: no such user"}`,
      '{"level":30,"ssn":"219099999"}',
      `{"level":30,"phone":"+41795551234","id":"01a20ae3-219099999abc"}`,
    ].join('\n');
    const hits = scanText(lines, personValues);
    expect(hits.map((h) => [h.line, h.value.toLowerCase()])).toEqual([
      [2, person.email],
      [3, '219099999'],
      [4, '+41795551234'],
    ]);
    expect(hits[0].excerpt).toContain('no such user');
  });

  it('finds nothing in lines without the values, and does not mistake digits inside ids or hashes for an SSN', () => {
    const clean = '{"route":"/api/contacts/:id","id":"0192aa3f-2190-9999-8abc-219099999def","hash":"a219099999b","ms":12}';
    expect(scanText(clean, personValues)).toEqual([]);
  });

  it('names the log file, line and test file of a hit', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-scan-unit-'));
    try {
      fs.writeFileSync(path.join(dir, '123.log'), `{"testFile":"src/some.test.ts"}\n{"msg":"ok"}\n{"msg":"hello ${person.lastName}"}\n`);
      expect(scanLogDir(dir, personValues)).toEqual([expect.objectContaining({ file: path.join(dir, '123.log'), line: 3, value: person.lastName, testFile: 'src/some.test.ts' })]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the values to look for from the test sources: the intake tests’ SSNs, this file’s person', () => {
    const values = piiInTestSources(process.cwd());
    for (const v of ['123-45-6789', '123456789', person.email, person.ssn, '219099999', person.firstName, person.lastName, '+41795551234']) expect(values).toContain(v);
    // Generic words that the app's own messages use are never taken for names, nor settings for SSNs.
    expect(values).not.toContain('Fixture');
    expect(piiInSource("duplicateRule: { identifier: 'email', lastName: true, ssn: 'full' }")).toEqual(new Set());
  });

  it('a hit fails `vitest run` through the global teardown (vitest ignores a teardown that throws, so it sets the exit code)', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-scan-run-'));
    try {
      fs.mkdirSync(path.join(root, 'test'));
      const setup = path.resolve('test/support/log-scan-global-setup.ts');
      const capture = path.resolve('test/support/log-capture.ts');
      fs.writeFileSync(path.join(root, 'vitest.config.mjs'), `export default { test: { include: ['test/*.test.ts'], globals: true, globalSetup: [${JSON.stringify(setup)}] } };\n`);
      const leak = (email: string) =>
        `import { captureLogLine } from ${JSON.stringify(capture)};\nit('logs', () => captureLogLine(JSON.stringify({ msg: 'sent to ' + ${JSON.stringify(email)} })));\nconst contact = { email: 'leaky.person@pii-scan.example' };\n`;
      const run = () =>
        spawnSync(process.execPath, [path.resolve('node_modules/vitest/vitest.mjs'), 'run', '--config', 'vitest.config.mjs'], { cwd: root, encoding: 'utf8', timeout: 60_000 });

      fs.writeFileSync(path.join(root, 'test', 'leak.test.ts'), leak('leaky.person@pii-scan.example'));
      const leaking = run();
      expect(leaking.status, leaking.stdout + leaking.stderr).not.toBe(0);
      expect(leaking.stderr).toContain('PERSONAL DATA IN LOGS');
      expect(leaking.stderr).toMatch(/\.log:1 \(written by |\.log:\d+: "leaky\.person@pii-scan\.example"/);

      fs.writeFileSync(path.join(root, 'test', 'leak.test.ts'), leak('someone else'));
      const clean = run();
      expect(clean.status, clean.stdout + clean.stderr).toBe(0);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});

describeEachEngine('PII log scan: a representative scenario leaves no personal value in the logs', (h) => {
  it('apply with an SSN, staff create and duplicate, import, failed sign-ins, self-service and access codes, export, expunge with a bouncing mail', async () => {
    const t = await h.tenant();
    const as = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers?: Record<string, string>) =>
      h.request(t.admin.token, { method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });

    const form = await as('POST', '/api/forms', {
      name: 'Apply',
      organizationId: t.organizationIds[0],
      fields: [
        { field: 'firstName', required: true },
        { field: 'lastName', required: true },
        { field: 'email', required: true },
        { field: 'mobilePhone', required: false },
        { field: 'ssn', required: false },
      ],
      duplicateRule: { identifier: 'email', lastName: false, ssn: 'full' },
    });
    expect(form.statusCode, form.body).toBe(201);
    const applied = await h.app.inject({ method: 'POST', url: `/api/public/forms/${form.json().id}/apply`, payload: person });
    expect(applied.statusCode, applied.body).toBeLessThan(300);
    // The same person again (a duplicate), and an application that fails validation with their values in it.
    await h.app.inject({ method: 'POST', url: `/api/public/forms/${form.json().id}/apply`, payload: person });
    await h.app.inject({ method: 'POST', url: `/api/public/forms/${form.json().id}/apply`, payload: { ...person, email: `${person.lastName}@`, ssn: '219-09-99' } });

    const created = await as('POST', '/api/contacts', { ...person, email: `staff.${person.email}` });
    expect(created.statusCode, created.body).toBe(201);
    const duplicate = await as('POST', '/api/contacts', { ...person, email: `staff.${person.email}` });
    expect(duplicate.statusCode).toBe(409);
    await as('GET', `/api/contacts?q=${encodeURIComponent(person.lastName)}&email=${encodeURIComponent(person.email)}`);

    const csv = `first_name,last_name,email,ssn\nBartholomew,Imported,${imported.email},${imported.ssn}\n,Broken,${imported.email}x,not-an-ssn\n`;
    const imp = await h.request(t.admin.token, { method: 'POST', url: '/api/imports', headers: { 'content-type': 'text/csv' }, payload: csv });
    expect(imp.statusCode, imp.body).toBe(202);

    for (const [email, password] of [
      [t.adminEmail, 'wrong password'],
      [person.email, 'wrong password'],
    ]) {
      expect((await h.app.inject({ method: 'POST', url: '/api/session', payload: { email, password } })).statusCode).toBe(401);
    }
    const slug = (await as('GET', '/api/institution')).json().slug;
    await h.app.inject({ method: 'POST', url: `/api/public/institutions/${slug}/profile/code`, payload: { email: person.email } });
    await h.app.inject({ method: 'POST', url: `/api/public/institutions/${slug}/subject-access/code`, payload: { email: person.email } });
    await h.app.inject({ method: 'POST', url: `/api/public/institutions/${slug}/profile/session`, payload: { email: person.email, code: '000000' } });

    const exported = await as('POST', '/api/exports', { scope: { type: 'contacts', filters: { q: person.lastName } } });
    expect(exported.statusCode, exported.body).toBe(202);

    const expunged = await as('POST', `/api/contacts/${created.json().id}/expunge`, { notify: true });
    expect(expunged.statusCode, expunged.body).toBe(200);
    // A mail server that bounces, quoting the address, as real ones do.
    const bouncing: MailTransport = {
      send: async (mail) => {
        throw new Error(`550 5.1.1 <${String(mail.to)}>: Recipient address rejected`);
      },
      close: () => {},
    };
    await work(h, bouncing);

    const logs = h.logLines.join('');
    expect(h.logLines.length).toBeGreaterThan(10);
    expect(logs).toContain('"route":"/api/public/forms/:formId/apply"');
    expect(logs).toContain('mail send failed');
    const values = [...personValues, `staff.${person.email}`, ...piiInSource(`email: '${imported.email}', ssn: '${imported.ssn}'`), 'Bartholomew', t.adminEmail];
    expect(scanText(logs, values)).toEqual([]);
  });
});
