import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';

describeEachEngine('intake: OpenAPI', (h) => {
  it('documents every intake, import, possible-duplicates and merge route with a summary, and bodies where they take one', async () => {
    const paths = (await h.request(null, { method: 'GET', url: '/api/openapi.json' })).json().paths as Record<string, Record<string, { summary?: string; requestBody?: unknown }>>;
    const expected: [string, string, boolean][] = [
      ['/api/intake/settings', 'get', false], ['/api/intake/settings', 'put', true],
      ['/api/forms', 'get', false], ['/api/forms', 'post', true], ['/api/forms/{id}', 'get', false], ['/api/forms/{id}', 'put', true],
      ['/api/contacts/{id}/applications', 'get', false],
      ['/api/public/forms/{formId}', 'get', false], ['/api/public/forms/{formId}/apply', 'post', true],
      ['/api/public/forms/{formId}/verifications/{verificationId}/verify', 'post', true], ['/api/public/forms/{formId}/verifications/{verificationId}/resend', 'post', false],
      ['/api/imports', 'post', false], ['/api/imports', 'get', false], ['/api/imports/{id}', 'get', false], ['/api/imports/{id}/errors.csv', 'get', false],
      ['/api/possible-duplicates', 'get', false], ['/api/possible-duplicates/scan', 'post', false], ['/api/possible-duplicates/{id}/dismiss', 'post', false],
      ['/api/contacts/{id}/merge/preview', 'post', true], ['/api/contacts/{id}/merge', 'post', true],
    ];
    for (const [path, method, body] of expected) {
      const op = paths[path]?.[method];
      expect(op?.summary, `${method} ${path}`).toBeTruthy();
      if (body) expect(op?.requestBody, `${method} ${path} body`).toBeDefined();
    }
  });
});
