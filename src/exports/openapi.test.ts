import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';

describeEachEngine('exports, projects and sequences: OpenAPI', (h) => {
  it('documents every route with a summary and its body; the HTML pages stay out of the API description', async () => {
    const paths = (await h.request(null, { method: 'GET', url: '/api/openapi.json' })).json().paths as Record<string, Record<string, { summary?: string; requestBody?: unknown }>>;
    const expected: [string, string, boolean][] = [
      ['/api/exports', 'post', true], ['/api/exports', 'get', false], ['/api/exports/{id}', 'get', false],
      ['/api/exports/{id}/approve', 'post', false], ['/api/exports/{id}/refuse', 'post', true], ['/api/exports/{id}/link', 'post', false],
      ['/api/export-requests', 'post', true], ['/api/export-settings', 'get', false], ['/api/export-settings', 'put', true],
      ['/api/contacts/{id}/subject-access', 'post', false],
      ['/api/public/institutions/{institution}/subject-access/code', 'post', true],
      ['/api/public/institutions/{institution}/subject-access/confirm', 'post', true],
      ['/exports/download/{token}', 'post', false],
      ['/api/projects', 'get', false], ['/api/projects', 'post', true], ['/api/projects/{id}', 'get', false], ['/api/projects/{id}', 'patch', true], ['/api/projects/{id}', 'delete', false],
      ['/api/projects/{id}/contacts', 'get', false], ['/api/projects/{id}/contacts', 'post', true], ['/api/projects/{id}/contacts/{contactId}', 'delete', false],
      ['/api/sequences', 'get', false], ['/api/sequences', 'post', true], ['/api/sequences/{id}', 'get', false], ['/api/sequences/{id}', 'patch', true], ['/api/sequences/{id}', 'delete', false],
      ['/api/sequences/{id}/steps', 'put', true], ['/api/sequences/{id}/enrollments', 'get', false], ['/api/sequences/{id}/enrollments', 'post', true],
      ['/api/sequences/{id}/enrollments/{enrollmentId}/steps/{position}', 'put', true], ['/api/sequences/{id}/enrollments/{enrollmentId}', 'delete', false],
    ];
    for (const [path, method, body] of expected) {
      const op = paths[path]?.[method];
      expect(op?.summary, `${method} ${path}`).toBeTruthy();
      if (body) expect(op?.requestBody, `${method} ${path} body`).toBeDefined();
    }
    expect(paths['/exports/my-data/{institution}']).toBeUndefined();
    expect(paths['/exports/download/{token}']?.get).toBeUndefined();
  });
});
