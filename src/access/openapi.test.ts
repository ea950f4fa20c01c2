import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';

describeEachEngine('access: OpenAPI', (h) => {
  it('documents every access route under the access tag, with request bodies', async () => {
    const res = await h.request(null, { method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    const paths = res.json().paths as Record<string, Record<string, { tags?: string[]; requestBody?: unknown }>>;
    const expected: [string, string][] = [
      ['/api/session', 'post'], ['/api/session', 'get'], ['/api/session', 'delete'],
      ['/api/me', 'get'], ['/api/me', 'patch'],
      ['/api/users', 'get'], ['/api/users', 'post'], ['/api/users/{id}', 'get'], ['/api/users/{id}', 'patch'], ['/api/users/{id}', 'delete'], ['/api/users/{id}/access', 'post'],
      ['/api/roles', 'get'], ['/api/roles', 'post'], ['/api/roles/{id}', 'get'], ['/api/roles/{id}', 'patch'], ['/api/roles/{id}', 'delete'],
      ['/api/tokens', 'get'], ['/api/tokens', 'post'], ['/api/tokens/{id}', 'delete'],
      ['/api/institution', 'get'], ['/api/organizations', 'get'], ['/api/organizations', 'post'], ['/api/organizations/{id}', 'get'], ['/api/organizations/{id}', 'patch'],
      ['/api/platform/institutions', 'get'],
    ];
    for (const [path, method] of expected) {
      expect({ path, method, tags: paths[path]?.[method]?.tags }).toEqual({ path, method, tags: ['access'] });
      if (['post', 'patch'].includes(method) && path !== '/api/session') expect(paths[path][method].requestBody).toBeDefined();
    }
    expect(JSON.stringify(paths['/api/roles'].post.requestBody)).toContain('account.self');
  });
});
