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

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prof-'));
const ctx = await openContext(loadConfig({ LETHE_DATA_DIR: dir, LOG_LEVEL: 'silent' }), { log: pino({ level: 'silent' }) });
const t = await createInstitution(ctx, { name: 'B', slug: 'b', organizations: [{ name: 'O', tier: 'enterprise', emailDomains: [] }], admin: { email: 'a@b.example', name: 'A', password: 'bench-password-123' } }, systemActor);
await writeIntakeSettings(ctx.db, t.institutionId, { duplicateRule: { identifier: 'email_or_mobile', lastName: true, ssn: 'none' }, defaultRegion: 'US' });
const form = await createForm(ctx, t.institutionId, systemActor, { name: 'C', organizationId: t.organizationIds[0], fields: [{ field: 'firstName', required: true }, { field: 'lastName', required: true }, { field: 'email', required: true }, { field: 'mobilePhone', required: false }] });
const body = (i: number) => ({ firstName: 'Zoë', lastName: `A-${i}`, email: `a${i}@example.org`, mobilePhone: `+1646${String(2_000_000 + i)}` });
let n = 0;
for (const conc of [1, 10, 100]) {
  const N = 1000;
  const lat: number[] = [];
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: conc }, async () => {
    while (next < N) { next++; const s = performance.now(); await applyToForm(ctx, form.id, body(n++)); lat.push(performance.now() - s); }
  }));
  lat.sort((a, b) => a - b);
  console.log(`conc ${conc}: ${(N / ((performance.now() - t0) / 1000)).toFixed(0)} /s p50 ${lat[N / 2].toFixed(1)} p99 ${lat[Math.floor(N * 0.99)].toFixed(1)} ms`);
}
await ctx.store.close();
