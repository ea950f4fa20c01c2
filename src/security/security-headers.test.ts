import fs from 'node:fs';
import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';

/** The CSP's directives as a map: "script-src 'self'" → { 'script-src': ["'self'"] }. */
function directives(csp: string | undefined): Record<string, string[]> {
  return Object.fromEntries(
    String(csp ?? '')
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name, values]),
  );
}

describeEachEngine('security headers', (h) => {
  const common = (headers: Record<string, unknown>) => {
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(headers['referrer-policy']).toBe('no-referrer');
    expect(headers['strict-transport-security']).toMatch(/^max-age=\d+/);
    expect(headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(headers['x-powered-by']).toBeUndefined();
    const csp = directives(headers['content-security-policy'] as string);
    expect(csp['frame-ancestors']).toEqual(["'none'"]);
    // No page may run a script that is not a file from this origin.
    expect(csp['script-src'] ?? csp['default-src']).not.toContain("'unsafe-inline'");
    return csp;
  };

  it('sends them on API answers, problem answers and the API documentation', async () => {
    const t = await h.tenant();
    const health = await h.app.inject({ method: 'GET', url: '/api/health' });
    common(health.headers);
    const denied = await h.app.inject({ method: 'GET', url: '/api/contacts' });
    expect(denied.statusCode).toBe(401);
    common(denied.headers);
    const ok = await h.request(t.admin.token, { method: 'GET', url: '/api/me' });
    expect(ok.statusCode).toBe(200);
    const csp = common(ok.headers);
    expect(csp['script-src']).toEqual(["'self'"]);
    expect(csp['object-src']).toEqual(["'none'"]);

    const docs = await h.app.inject({ method: 'GET', url: '/api/docs/' });
    expect(docs.statusCode).toBe(200);
    common(docs.headers);
    // Swagger UI loads only files from here.
    expect(docs.body).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
  });

  it('keeps the console working: its scripts are files from this origin, styles may be inline', async () => {
    const root = await h.app.inject({ method: 'GET', url: '/' });
    const csp = common(root.headers);
    expect(csp['style-src']).toContain("'unsafe-inline'");
    expect(csp['connect-src'] ?? csp['default-src']).toEqual(["'self'"]);
    // The console's page has one script, the bundled entry, never inline code.
    const source = fs.readFileSync('web/index.html', 'utf8');
    const scripts = source.match(/<script[^>]*>/g) ?? [];
    expect(scripts).toEqual(['<script type="module" src="/src/main.tsx">']);
    if (fs.existsSync('dist/web/index.html')) expect(fs.readFileSync('dist/web/index.html', 'utf8')).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
  });

  it('keeps the public pages working: their <style> block is allowed, they carry no script', async () => {
    const t = await h.tenant();
    const slug = (await h.ctx.db.selectFrom('institutions').select('slug').where('id', '=', t.institutionId).executeTakeFirstOrThrow()).slug;
    for (const url of [`/exports/my-data/${slug}`, '/exports/download/not-a-token', '/p/opt-in/not-a-token']) {
      const res = await h.app.inject({ method: 'GET', url });
      expect(res.headers['content-type'], url).toContain('text/html');
      expect(res.body, url).toContain('<style>');
      expect(res.body, url).not.toContain('<script');
      const csp = common(res.headers);
      expect(csp['style-src'], url).toContain("'unsafe-inline'");
      expect(csp['form-action'], url).toEqual(["'self'"]);
    }
  });
});
