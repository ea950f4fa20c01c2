import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { beforeAll, expect, it } from 'vitest';
import { describeEachEngine, type SeededTenant } from '../support/harness.ts';
import { intakeApi } from '../../src/intake/intake-test-api.ts';
import { signLink } from '../../src/workflows/links.ts';

/**
 * Whatever a stranger sends to the public endpoints, the answer is never a 500, and a refused
 * request writes nothing: the contacts and applications tables keep their size.
 */

const RUNS = 120;
/** Each run comes from its own address, so the rate limits (tested elsewhere) do not answer instead of the endpoint. */
let addressSeq = 0;
const nextAddress = () => {
  addressSeq++;
  return `10.${(addressSeq >> 16) & 255}.${(addressSeq >> 8) & 255}.${addressSeq & 255}`;
};

/** Strings a person or a script might type: plain, unicode, near-valid emails and codes, injection-looking. */
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.emailAddress(),
  fc.stringMatching(/^[0-9]{1,8}$/),
  fc.constantFrom('', ' ', '\u0000', "'; drop table contacts; --", '<script>alert(1)</script>', '../../etc/passwd', 'a'.repeat(5000), '%00', '\u202e'),
);
const anyJson = fc.jsonValue({ maxDepth: 4 });
/** A body shaped like the endpoint's, with arbitrary values and extra keys. */
const looseRecord = (keys: string[]) => fc.dictionary(fc.constantFrom(...keys, 'extra', '__proto__', 'constructor'), fc.oneof(text, anyJson), { maxKeys: keys.length + 2 });
const body = (keys: string[]) => fc.oneof(anyJson.map((v) => JSON.stringify(v)), looseRecord(keys).map((v) => JSON.stringify(v)), fc.string({ maxLength: 80 }));

describeEachEngine('public endpoints under arbitrary input', (h) => {
  let tenant: SeededTenant;
  let formId: string;
  let slug: string;
  let contactId: string;

  beforeAll(async () => {
    tenant = await h.tenant();
    const api = intakeApi(h, tenant);
    formId = (await api.createForm({ verificationEnabled: false })).id;
    contactId = (await api.createContact({ firstName: 'Fuzz', lastName: 'Target', email: 'fuzz.target@example.org' })).id;
    slug = (await h.ctx.db.selectFrom('institutions').select('slug').where('id', '=', tenant.institutionId).executeTakeFirstOrThrow()).slug;
  });

  const counts = async () => ({ contacts: await h.count('contacts'), applications: await h.count('applications') });
  const send = (method: 'GET' | 'POST', url: string, payload?: string, contentType = 'application/json') =>
    h.app.inject({ method, url, payload, headers: payload === undefined ? {} : { 'content-type': contentType }, remoteAddress: nextAddress() });
  const noServerError = (res: LightMyRequestResponse, what: string) => {
    expect(res.statusCode, `${what} → ${res.statusCode} ${res.body.slice(0, 300)}`).toBeLessThan(500);
  };

  it('apply: never a 500; refused applications store nothing, accepted ones one application', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(body(['firstName', 'lastName', 'email', 'mobilePhone', 'ssn', 'employer']), fc.record({ firstName: text, lastName: text, email: text }, { requiredKeys: [] }).map((v) => JSON.stringify(v))), async (payload) => {
        const before = await counts();
        const res = await send('POST', `/api/public/forms/${formId}/apply`, payload);
        noServerError(res, `apply ${payload.slice(0, 200)}`);
        const after = await counts();
        if (res.statusCode >= 400) expect(after).toEqual(before);
        else {
          expect(after.applications).toBe(before.applications + 1);
          expect(after.contacts - before.contacts).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('apply to arbitrary form ids and verification codes: never a 500, nothing written', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(text, text, body(['code']), async (form, verification, payload) => {
        const before = await counts();
        const f = encodeURIComponent(form) || 'x';
        const v = encodeURIComponent(verification) || 'x';
        noServerError(await send('POST', `/api/public/forms/${f}/apply`, payload), `apply to ${form}`);
        noServerError(await send('POST', `/api/public/forms/${f}/verifications/${v}/verify`, payload), `verify ${verification}`);
        noServerError(await send('POST', `/api/public/forms/${formId}/verifications/${v}/verify`, JSON.stringify({ code: verification })), `verify code ${verification}`);
        noServerError(await send('POST', `/api/public/forms/${f}/verifications/${v}/resend`), `resend ${verification}`);
        expect(await counts()).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('self-service code request, code check and magic link: never a 500, no session opened by a guess', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constant(slug), text), body(['email', 'code', 'token']), text, async (institution, payload, code) => {
        const base = `/api/public/institutions/${encodeURIComponent(institution) || 'x'}/profile`;
        const before = await counts();
        noServerError(await send('POST', `${base}/code`, payload), 'profile code');
        const guess = await send('POST', `${base}/session`, JSON.stringify({ email: 'fuzz.target@example.org', code }));
        noServerError(guess, `profile session ${code}`);
        expect(guess.statusCode).not.toBe(200);
        noServerError(await send('POST', `${base}/session`, payload), 'profile session');
        noServerError(await send('POST', `${base}/link`, payload), 'profile link');
        noServerError(await send('GET', base), 'profile');
        expect(await counts()).toEqual(before);
      }),
      { numRuns: RUNS },
    );
    expect(await h.count('contact_sessions')).toBe(0);
  });

  it('opt-in and consent-renewal pages: arbitrary tokens and form bodies never give a 500 or change consent', { timeout: 60_000 }, async () => {
    const valid = signLink(h.ctx, { kind: 'opt_in', institutionId: tenant.institutionId, contactId, workflowId: null });
    const token = fc.oneof(
      text.map((t) => encodeURIComponent(t)),
      fc.nat({ max: valid.length - 1 }).chain((cut) => fc.string({ maxLength: 3 }).map((s) => valid.slice(0, cut) + encodeURIComponent(s) + valid.slice(cut + 1))),
    );
    const form = fc.oneof(fc.string({ maxLength: 60 }), fc.dictionary(fc.constantFrom('consent', 'x'), text).map((d) => new URLSearchParams(d).toString()));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/p/opt-in/', '/p/renew/', '/p/l/'), token, form, async (page, t, payload) => {
        const get = await send('GET', `${page}${t}`);
        noServerError(get, `GET ${page}${t}`);
        const post = await send('POST', `${page}${t}`, payload, 'application/x-www-form-urlencoded');
        noServerError(post, `POST ${page}${t}`);
        if (t !== valid) expect(post.statusCode).not.toBe(200);
      }),
      { numRuns: RUNS },
    );
    const row = await h.ctx.db.selectFrom('contacts').select('opt_in_status').where('id', '=', contactId).executeTakeFirstOrThrow();
    expect(row.opt_in_status).not.toBe('opted_in');
  });

  it('export download links: arbitrary tokens never give a 500 or a file', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(text, fc.base64String({ maxLength: 60 })), async (t) => {
        const url = `/exports/download/${encodeURIComponent(t) || 'x'}`;
        const get = await send('GET', url);
        noServerError(get, `GET ${url}`);
        const post = await send('POST', url, '', 'application/x-www-form-urlencoded');
        noServerError(post, `POST ${url}`);
        expect(post.headers['content-type']).not.toContain('application/zip');
      }),
      { numRuns: RUNS },
    );
  });
});
