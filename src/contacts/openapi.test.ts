import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';

describeEachEngine('contacts: OpenAPI', (h) => {
  it('documents every contacts route with its tag, request body and directory filters', async () => {
    const res = await h.request(null, { method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    const paths = res.json().paths as Record<string, Record<string, { tags?: string[]; requestBody?: unknown; parameters?: { name: string }[] }>>;
    const expected: [string, string, string][] = [
      ['/api/contacts', 'get', 'contacts'],
      ['/api/contacts', 'post', 'contacts'],
      ['/api/contacts/{id}', 'get', 'contacts'],
      ['/api/contacts/{id}', 'patch', 'contacts'],
      ['/api/contacts/{id}/consent', 'put', 'contacts'],
      ['/api/contacts/{id}/activity', 'get', 'contacts'],
      ...(['notes', 'meetings', 'tasks'] as const).flatMap((k): [string, string, string][] => [
        [`/api/contacts/{id}/${k}`, 'get', 'contacts'],
        [`/api/contacts/{id}/${k}`, 'post', 'contacts'],
        [`/api/contacts/{id}/${k}/{recordId}`, 'patch', 'contacts'],
        [`/api/contacts/{id}/${k}/{recordId}`, 'delete', 'contacts'],
      ]),
      ['/api/attributes', 'get', 'attributes'],
      ['/api/attributes', 'post', 'attributes'],
      ['/api/attributes/{id}', 'get', 'attributes'],
      ['/api/attributes/{id}', 'patch', 'attributes'],
      ['/api/attributes/{id}', 'delete', 'attributes'],
      ['/api/employers', 'get', 'employers'],
      ['/api/employers', 'post', 'employers'],
      ['/api/employers/{id}', 'get', 'employers'],
      ['/api/employers/{id}', 'patch', 'employers'],
      ['/api/employers/{id}/contacts', 'get', 'employers'],
    ];
    for (const [path, method, tag] of expected) {
      expect({ path, method, tags: paths[path]?.[method]?.tags }).toEqual({ path, method, tags: [tag] });
      if (['post', 'patch', 'put'].includes(method)) expect(paths[path][method].requestBody, `${method} ${path}`).toBeDefined();
    }
    const filters = paths['/api/contacts'].get.parameters!.map((p) => p.name);
    expect(filters).toEqual(expect.arrayContaining(['email', 'lastName', 'q', 'approvalStatus', 'sort', 'after', 'limit']));
  });
});
