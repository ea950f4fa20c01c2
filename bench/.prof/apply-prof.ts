import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { openContext } from '../../src/runtime.ts';
import { createInstitution } from '../../src/access/institutions.ts';
import { systemActor } from '../../src/audit/audit-log.ts';
import { createForm } from '../../src/intake/forms.ts';
import { writeIntakeSettings } from '../../src/intake/settings.ts';
import { applyToForm } from '../../src/intake/apply.ts';
import { buildApp } from '../../src/http/app.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prof-'));
const ctx = await openContext(loadConfig({ LETHE_DATA_DIR: dir, LOG_LEVEL: 'silent', LETHE_APPLY_RATE_LIMIT: '1000000' }), { log: pino({ level: 'silent' }) });
const t = await createInstitution(ctx, { name: 'B', slug: 'b', organizations: [{ name: 'O', tier: 'enterprise', emailDomains: [] }], admin: { email: 'a@b.example', name: 'A', password: 'bench-password-123' } }, systemActor);
await writeIntakeSettings(ctx.db, t.institutionId, { duplicateRule: { identifier: 'email_or_mobile', lastName: true, ssn: 'none' }, defaultRegion: 'US' });
const form = await createForm(ctx, t.institutionId, systemActor, { name: 'C', organizationId: t.organizationIds[0], fields: [{ field: 'firstName', required: true }, { field: 'lastName', required: true }, { field: 'email', required: true }, { field: 'mobilePhone', required: false }] });
const body = (i: number) => ({ firstName: 'Zoë', lastName: `A-${i}`, email: `a${i}@example.org`, mobilePhone: `+1646${String(2_000_000 + i)}` });
for (let i = 0; i < 300; i++) await applyToForm(ctx, form.id, body(i));
let t0 = performance.now();
const N = 2000;
for (let i = 300; i < 300 + N; i++) await applyToForm(ctx, form.id, body(i));
console.log('service per apply (sequential, in-process) ms', ((performance.now() - t0) / N).toFixed(3));
const app = await buildApp(ctx);
t0 = performance.now();
for (let i = 5000; i < 5000 + N; i++) await app.inject({ method: 'POST', url: `/api/public/forms/${form.id}/apply`, payload: body(i) });
console.log('via inject ms', ((performance.now() - t0) / N).toFixed(3));
if (process.env.PROF) {
  const { Session } = await import('node:inspector/promises');
  const s = new Session(); s.connect(); await s.post('Profiler.enable'); await s.post('Profiler.start');
  for (let i = 10000; i < 10000 + N; i++) await applyToForm(ctx, form.id, body(i));
  const { profile } = await s.post('Profiler.stop');
  fs.writeFileSync('/tmp/prof/apply.cpuprofile', JSON.stringify(profile));
}
await app.close(); await ctx.store.close();
