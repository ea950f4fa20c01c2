import { expect } from 'vitest';
import { sql } from 'kysely';
import type { LightMyRequestResponse } from 'fastify';
import type { Harness, SeededTenant } from '../../test/support/harness.ts';
import type { DuplicateRule } from './rules/duplicate-rule.ts';

/** Requests against the intake API for tests, failing loudly when a set-up step does not succeed. */
export function intakeApi(h: Harness, tenant: SeededTenant) {
  const token = tenant.admin.token;
  const expectStatus = (res: LightMyRequestResponse, status: number, what: string) => {
    expect(res.statusCode, `${what}: ${res.body}`).toBe(status);
    return res.json();
  };
  const api = {
    async setRule(duplicateRule: DuplicateRule, defaultRegion = 'US') {
      const res = await h.request(token, { method: 'PUT', url: '/api/intake/settings', payload: { duplicateRule, defaultRegion } });
      return expectStatus(res, 200, 'PUT /api/intake/settings');
    },
    async createForm(overrides: Record<string, unknown> = {}) {
      const res = await h.request(token, {
        method: 'POST',
        url: '/api/forms',
        payload: {
          name: 'Careers',
          organizationId: tenant.organizationIds[0],
          fields: [
            { field: 'firstName', required: true },
            { field: 'lastName', required: true },
            { field: 'email', required: true },
            { field: 'mobilePhone', required: false },
            { field: 'ssn', required: false },
          ],
          ...overrides,
        },
      });
      return expectStatus(res, 201, 'POST /api/forms') as { id: string; effectiveRule: DuplicateRule };
    },
    apply: (formId: string, payload: Record<string, unknown>) => h.request(null, { method: 'POST', url: `/api/public/forms/${formId}/apply`, payload }),
    verify: (formId: string, verificationId: string, code: string) =>
      h.request(null, { method: 'POST', url: `/api/public/forms/${formId}/verifications/${verificationId}/verify`, payload: { code } }),
    resend: (formId: string, verificationId: string) => h.request(null, { method: 'POST', url: `/api/public/forms/${formId}/verifications/${verificationId}/resend` }),
    async createContact(payload: Record<string, unknown>) {
      const res = await h.request(token, { method: 'POST', url: '/api/contacts', payload });
      return expectStatus(res, 201, 'POST /api/contacts');
    },
    async contact(id: string) {
      return expectStatus(await h.request(token, { method: 'GET', url: `/api/contacts/${id}` }), 200, `GET /api/contacts/${id}`);
    },
    async applications(contactId: string) {
      const res = await h.request(token, { method: 'GET', url: `/api/contacts/${contactId}/applications` });
      return expectStatus(res, 200, 'GET applications').items as { id: string; status: string; formId: string; submitted: Record<string, unknown> | null }[];
    },
    async audit(query: string) {
      const res = await h.request(token, { method: 'GET', url: `/api/audit?${query}` });
      return expectStatus(res, 200, 'GET /api/audit').items as { action: string; before: unknown; after: unknown; meta: Record<string, unknown> | null; targetId: string }[];
    },
  };
  return api;
}

/** How many rows each table holds, to prove a refused request stored nothing. */
export async function tableCounts(h: Harness, tables = ['contacts', 'applications', 'application_verifications', 'outbox_messages', 'activity_events', 'audit_log']) {
  const counts: Record<string, number> = {};
  for (const table of tables) counts[table] = await h.count(table);
  return counts;
}

/** Every row of every table as text, to search the whole database for a value. */
export async function dumpDatabase(h: Harness): Promise<string> {
  const db = h.ctx.db;
  const tables =
    h.kind === 'postgres'
      ? (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public'`.execute(db)).rows
      : (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)).rows;
  const parts: string[] = [];
  for (const { name } of tables) {
    const rows = (await sql`select * from ${sql.table(name)}`.execute(db)).rows;
    parts.push(JSON.stringify(rows, (_k, v) => (Buffer.isBuffer(v) ? v.toString('latin1') : v)));
  }
  return parts.join('\n');
}
