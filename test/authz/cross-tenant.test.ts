import { beforeAll, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { describeEachEngine } from '../support/harness.ts';
import { actors, expectedFor, routeRules } from './expectations.ts';
import { requestFor, seedFixtures, type Fixtures } from './fixtures.ts';
import { makeCallers, type Caller } from './callers.ts';
import { registeredRoutes } from './registered-routes.ts';

/** Path parameters that name a tenant's record (as opposed to a template key, a step number or a public token). */
const idParams = new Set(['id', 'recordId', 'contactId', 'enrollmentId']);
const takesIds = (route: string) => [...route.matchAll(/:([A-Za-z]+)/g)].some((m) => idParams.has(m[1]));

/**
 * src/access/tenant-isolation.test.ts checks the access routes by hand; this walks every route that
 * takes a record id, with another institution's real ids, as a caller the route lets in.
 */
describeEachEngine("tenant isolation: every route given another institution's ids", (h) => {
  let mine: Fixtures;
  let theirs: Fixtures;
  let callers: Caller[];

  beforeAll(async () => {
    mine = await seedFixtures(h);
    theirs = await seedFixtures(h);
    const wanted = actors.filter((a) => a.name === 'API token (admin)' || a.name === 'platform support');
    callers = await makeCallers(h, mine, wanted);
  }, 120_000);

  it('answers 404 — never their data, never a 403 — and changes nothing of theirs', async () => {
    const routes = registeredRoutes(h.app).filter((r) => takesIds(r) && routeRules[r] && routeRules[r].kind !== 'public');
    expect(routes.length).toBeGreaterThan(60);

    // Their records as their own admin sees them, before and after the attempts.
    const theirReads = routes.filter((r) => r.startsWith('GET '));
    const snapshot = async () => {
      const out: Record<string, string> = {};
      for (const r of theirReads) {
        const res = await h.request(theirs.t.admin.token, await requestFor[r](theirs));
        out[r] = `${res.statusCode} ${res.body}`;
      }
      return out;
    };
    // Requests first: some builders make throwaway records of theirs (by their own admin).
    const requests = new Map<string, InjectOptions>();
    for (const route of routes) requests.set(route, await requestFor[route](theirs));
    const before = await snapshot();
    const theirContact = (await h.request(theirs.t.admin.token, { method: 'GET', url: `/api/contacts/${theirs.contactId}` })).json();
    const secrets = [theirs.slug, theirs.t.adminEmail, theirContact.lastName, theirs.t.institutionId];

    const failures: string[] = [];
    for (const route of routes) {
      const rule = routeRules[route];
      const path = route.slice(route.indexOf(' ') + 1);
      // The first of my admin's token and platform support (acting in my institution) that the route lets in.
      const caller = callers.find((c) => expectedFor(rule, path, c.spec).allowed);
      if (!caller) {
        failures.push(`${route}: no caller of mine is allowed; add one`);
        continue;
      }
      const request = requests.get(route)!;
      const res = await caller.call(request);
      if (res.statusCode !== 404) failures.push(`${route} as ${caller.spec.name} (${request.url}): ${res.statusCode} ${res.body.slice(0, 160)}`);
      const leaked = secrets.filter((s) => res.body.includes(s));
      if (leaked.length) failures.push(`${route}: the answer names ${leaked.join(', ')}`);
    }
    expect(failures).toEqual([]);
    expect(await snapshot()).toEqual(before);
  }, 300_000);

  it('a nested record is found only under its own parent: my parent with their child, or with another of my parents’ children, is 404', async () => {
    const admin = callers.find((c) => c.spec.name === 'API token (admin)')!;
    const otherContact = await mine.fresh.contact();
    const otherSequence = await mine.fresh.sequence();
    const attempts: InjectOptions[] = [];
    for (const [kind, theirId] of [
      ['notes', theirs.noteId],
      ['meetings', theirs.meetingId],
      ['tasks', theirs.taskId],
    ] as const) {
      const myOtherRecord = await mine.fresh.record(kind); // on mine.contactId, asked for under otherContact
      for (const [contactId, recordId] of [
        [mine.contactId, theirId],
        [otherContact, myOtherRecord],
      ]) {
        attempts.push({ method: 'PATCH', url: `/api/contacts/${contactId}/${kind}/${recordId}`, payload: { [kind === 'notes' ? 'body' : 'title']: 'Hijacked' } });
        attempts.push({ method: 'DELETE', url: `/api/contacts/${contactId}/${kind}/${recordId}` });
      }
    }
    for (const enrollmentId of [theirs.sequenceEnrollmentId, otherSequence.enrollmentId]) {
      attempts.push({ method: 'PUT', url: `/api/sequences/${mine.sequenceId}/enrollments/${enrollmentId}/steps/1`, payload: { status: 'replied' } });
      attempts.push({ method: 'DELETE', url: `/api/sequences/${mine.sequenceId}/enrollments/${enrollmentId}` });
    }
    attempts.push({ method: 'DELETE', url: `/api/projects/${mine.projectId}/contacts/${theirs.contactId}` });
    attempts.push({ method: 'POST', url: `/api/projects/${mine.projectId}/contacts`, payload: { contactIds: [theirs.contactId] } });
    attempts.push({ method: 'POST', url: `/api/contacts/${mine.contactId}/merge/preview`, payload: { otherId: theirs.contactId } });
    attempts.push({ method: 'POST', url: `/api/sequences/${mine.sequenceId}/enrollments`, payload: { contactIds: [theirs.contactId] } });

    const answers = [];
    for (const attempt of attempts) answers.push({ request: `${attempt.method} ${attempt.url}`, status: (await admin.call(attempt)).statusCode });
    // Adding their contact to my project or sequence may be refused as 404 or as a field error, but never done.
    const addsTheirs = (r: string) => /\/(contacts|enrollments)$|merge\/preview$/.test(r);
    expect(answers.filter((a) => (addsTheirs(a.request) ? ![404, 409, 422].includes(a.status) : a.status !== 404))).toEqual([]);
    const project = await h.request(mine.t.admin.token, { method: 'GET', url: `/api/projects/${mine.projectId}/contacts` });
    expect(project.json().items.map((c: { id: string }) => c.id)).not.toContain(theirs.contactId);
    const enrolled = await h.request(mine.t.admin.token, { method: 'GET', url: `/api/sequences/${mine.sequenceId}/enrollments` });
    expect(JSON.stringify(enrolled.json())).not.toContain(theirs.contactId);
  });
});
