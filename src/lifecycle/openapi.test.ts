import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';

describeEachEngine('lifecycle and webhooks: OpenAPI', (h) => {
  it('documents every lifecycle, self-service and webhook route with its tag and request body', async () => {
    const res = await h.request(null, { method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    const paths = res.json().paths as Record<string, Record<string, { tags?: string[]; requestBody?: unknown; parameters?: { name: string }[] }>>;
    const expected: [string, string, string][] = [
      ...['disable', 'restore', 'archive', 'unarchive', 'reject', 'approve', 'delete', 'expunge'].map((a): [string, string, string] => [`/api/contacts/{id}/${a}`, 'post', 'lifecycle']),
      ['/api/contacts/{id}', 'delete', 'lifecycle'],
      ['/api/contacts/{id}/lifecycle', 'get', 'lifecycle'],
      ['/api/contacts/bulk/preview', 'post', 'lifecycle'],
      ['/api/contacts/bulk', 'post', 'lifecycle'],
      ['/api/lifecycle/settings', 'get', 'lifecycle'],
      ['/api/lifecycle/settings', 'patch', 'lifecycle'],
      ['/api/public/institutions/{institution}/profile/code', 'post', 'self-service'],
      ['/api/public/institutions/{institution}/profile/session', 'post', 'self-service'],
      ['/api/public/institutions/{institution}/profile/link', 'post', 'self-service'],
      ['/api/public/institutions/{institution}/profile', 'get', 'self-service'],
      ['/api/public/institutions/{institution}/profile', 'delete', 'self-service'],
      ['/api/webhooks', 'get', 'webhooks'],
      ['/api/webhooks', 'post', 'webhooks'],
      ['/api/webhooks/{id}', 'patch', 'webhooks'],
      ['/api/webhooks/{id}', 'delete', 'webhooks'],
      ['/api/webhooks/{id}/ping', 'post', 'webhooks'],
      ['/api/webhooks/{id}/deliveries', 'get', 'webhooks'],
    ];
    for (const [path, method, tag] of expected) {
      expect({ path, method, tags: paths[path]?.[method]?.tags }).toEqual({ path, method, tags: [tag] });
      if (['post', 'patch', 'put'].includes(method) && !path.endsWith('/ping')) expect(paths[path][method].requestBody, `${method} ${path}`).toBeDefined();
    }
    expect(paths['/api/contacts'].get.parameters!.map((p) => p.name)).toContain('lifecycle');
  });
});
