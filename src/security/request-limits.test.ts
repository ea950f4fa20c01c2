import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { inspectJsonText, MAX_JSON_DEPTH } from './json-body-guard.ts';

describeEachEngine('request body limits', (h) => {
  const post = (url: string, payload: string, remoteAddress = '10.1.0.1') =>
    h.app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' }, remoteAddress });

  it('refuses a body over 1 MiB with 413 problem+json and stores nothing', async () => {
    const before = await h.count('contacts');
    const big = JSON.stringify({ firstName: 'x'.repeat(1_100_000), lastName: 'Big', email: 'big@example.org' });
    for (const url of ['/api/session', '/api/public/forms/any-form/apply', '/api/contacts']) {
      const res = await post(url, big);
      expect(res.statusCode, url).toBe(413);
      expect(res.headers['content-type'], url).toContain('application/problem+json');
      expect(res.json(), url).toMatchObject({ status: 413, title: 'Payload Too Large' });
    }
    expect(await h.count('contacts')).toBe(before);
  });

  it('answers a body nested 10,000 levels deep with 400 naming the body, not a crash', async () => {
    const t = await h.tenant();
    const deepObject = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    const deepArray = '['.repeat(10_000) + ']'.repeat(10_000);
    for (const [url, payload] of [
      ['/api/session', deepObject],
      ['/api/public/forms/any-form/apply', `{"firstName":${deepArray}}`],
      ['/api/workflows', `{"name":"w","definition":${deepObject}}`],
    ]) {
      const res = await h.app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json', authorization: `Bearer ${t.admin.token}` }, remoteAddress: '10.1.0.2' });
      expect(res.statusCode, url).toBe(400);
      expect(res.headers['content-type'], url).toContain('application/problem+json');
      expect(res.json().errors, url).toEqual([{ field: 'body', message: `nests deeper than ${MAX_JSON_DEPTH} levels` }]);
    }
    // The server is still answering.
    expect((await h.app.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200);
  });

  it('still parses ordinary JSON, with brackets inside strings not counted as nesting', async () => {
    const res = await post('/api/session', JSON.stringify({ email: 'someone@example.org', password: '['.repeat(500) + '{"\\"'.repeat(100) }), '10.1.0.3');
    expect(res.statusCode).toBe(401);
    expect(inspectJsonText('{"a":"[[[[[[[[\\"[[[["}', 2)).toBe(null);
    expect(inspectJsonText('[[[1]]]', 2)).toBe('too_deep');
    expect(inspectJsonText('{"a":"\\\\u0000"}', 2)).toBe(null); // an escaped backslash, then the text "u0000"
    // Prototype poisoning is still refused by Fastify's own parser behind the depth check.
    const poisoned = await post('/api/session', '{"email":"a@example.org","password":"x","__proto__":{"admin":true}}', '10.1.0.4');
    expect(poisoned.statusCode).toBe(400);
    const unreadable = [{ field: 'body', message: 'is not valid JSON, or holds a "__proto__" or "constructor.prototype" key' }];
    expect(poisoned.json().errors).toEqual(unreadable);
    const broken = await post('/api/session', '{"email": ', '10.1.0.4');
    expect(broken.statusCode).toBe(400);
    expect(broken.json().errors).toEqual(unreadable);
  });

  it('refuses a NUL character in a body or an address with 400 naming where, never a database error', async () => {
    const before = await h.count('contacts');
    const body = await post('/api/public/forms/any-form/apply', JSON.stringify({ firstName: 'Nul\u0000', lastName: 'Byte', email: 'nul@example.org' }), '10.1.0.5');
    expect(body.statusCode).toBe(400);
    expect(body.json().errors).toEqual([{ field: 'body', message: 'holds a NUL character (\\u0000)' }]);
    for (const url of ['/api/public/forms/%00/apply', '/api/public/forms/f/verifications/%00/resend', '/api/public/institutions/x%00/profile/code']) {
      const res = await post(url, '{}', '10.1.0.6');
      expect(res.statusCode, url).toBe(400);
      expect(res.json().errors, url).toEqual([{ field: 'url', message: 'holds a NUL character (%00)' }]);
    }
    expect(await h.count('contacts')).toBe(before);
  });
});
