import { expect } from 'vitest';
import type { Harness } from './harness.ts';

/** JSON requests against the contacts API, failing loudly when a set-up step does not succeed. */
export function contactsApi(h: Harness, token: string) {
  const call = async (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: unknown, headers?: Record<string, string>) =>
    h.request(token, { method, url, ...(payload === undefined ? {} : { payload: payload as object }), headers });
  const ok = async (expected: number, method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: unknown) => {
    const res = await call(method, url, payload);
    expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(expected);
    return res.statusCode === 204 ? null : res.json();
  };
  return {
    call,
    get: (url: string) => ok(200, 'GET', url),
    createContact: (body: Record<string, unknown>) => ok(201, 'POST', '/api/contacts', body),
    patchContact: (id: string, body: Record<string, unknown>) => ok(200, 'PATCH', `/api/contacts/${id}`, body),
    defineAttribute: (body: Record<string, unknown>) => ok(201, 'POST', '/api/attributes', body),
    createEmployer: (name: string) => ok(201, 'POST', '/api/employers', { name }),
    list: async (query: string) => ok(200, 'GET', `/api/contacts${query ? `?${query}` : ''}`),
  };
}

/** Every page of a directory listing, following nextCursor. */
export async function allPages(h: Harness, token: string, query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const params = new URLSearchParams(query);
    params.set('limit', String(limit));
    if (cursor) params.set('after', cursor);
    const res = await h.request(token, { method: 'GET', url: `/api/contacts?${params}` });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { items: { id: string }[]; nextCursor: string | null };
    ids.push(...body.items.map((i) => i.id));
    cursor = body.nextCursor;
    pages++;
    if (pages > 1000) throw new Error('pagination does not end');
  } while (cursor);
  return { ids, pages };
}
