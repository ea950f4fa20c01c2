import { expect } from 'vitest';
import type { Harness, SeededTenant } from '../../test/support/harness.ts';

/** Test set-up shared by the retention tests (imported by *.test.ts only). */

export async function newContact(h: Harness, t: SeededTenant, first: string, last = 'Tester', extra: Record<string, unknown> = {}): Promise<string> {
  const res = await h.request(t.admin.token, { method: 'POST', url: '/api/contacts', payload: { firstName: first, lastName: last, ...extra } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

export async function post(h: Harness, token: string, url: string, payload: unknown, expected = 201): Promise<any> {
  const res = await h.request(token, { method: 'POST', url, payload: payload as object });
  expect(res.statusCode, `${url}: ${res.body}`).toBe(expected);
  return res.json();
}

export async function recencyOfContact(h: Harness, token: string, id: string): Promise<{ recency: string; reason: string; sourceId: string | null }> {
  const res = await h.request(token, { method: 'GET', url: `/api/contacts/${id}/recency` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** A sale to `contactId` as purchase contact: undated product at the order date. */
export function sale(contactId: string, ref: string, orderedAt: string, extra: Record<string, unknown> = {}) {
  return {
    externalRef: ref,
    kind: 'sale',
    orderedAt,
    contacts: [{ contactId, role: 'purchase' }],
    lines: [{ product: 'Season pass', dated: false, amountCents: 12000 }],
    ...extra,
  };
}

/**
 * Runs due retention schedules and every due job one after the other, in this process, until none
 * is left: unlike a started worker (whose own loop runs beside drain()), nothing runs concurrently,
 * so a storage-level check right after sees no transaction of the worker's still open.
 */
export async function drainSequentially(h: Harness): Promise<void> {
  const { jobHandlers } = await import('../jobs/registry.ts');
  const { runOneJob } = await import('../jobs/worker.ts');
  const { retentionTick } = await import('./schedule.ts');
  for (;;) {
    let did = await retentionTick(h.ctx);
    while (await runOneJob(h.ctx, { handlers: jobHandlers }, 'test:sequential')) did++;
    if (did === 0) return;
  }
}
