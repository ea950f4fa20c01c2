import { CompiledQuery } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { describeEachEngine, type SeededTenant } from '../../test/support/harness.ts';
import { allPages, contactsApi } from '../../test/support/contacts.ts';
import { foldName } from './normalize.ts';
import { directoryQuery, searchDirectory, type DirectoryFilters } from './directory.ts';
import { systemViewer } from './visibility.ts';

interface Profile {
  id: string;
  firstName: string;
  lastName: string;
  email: string | null;
  organizationId: string;
  employer: { id: string } | null;
  visibility: string;
  approvalStatus: string;
  source: string;
  optInStatus: string;
  attributes: Record<string, string | number | boolean>;
  createdAt: string;
}

const lastNames = ['Müller', 'Mullins', 'Martin', 'Márquez', 'O’Brien', 'Obi', 'Smith', 'Smythe', 'van Dijk', 'Vance', 'Zhang', 'Dupont-Lefèvre'];
const firstNames = ['Ada', 'Adèle', 'Bob', 'Chloé', 'Dmitri', 'Émile', 'Farah'];
const programs = ['Engineering', 'Law', 'Medicine'];

describeEachEngine('contact directory', (h) => {
  let t: SeededTenant;
  let contacts: Profile[] = [];
  let employers: { id: string }[] = [];

  beforeAll(async () => {
    t = await h.tenant();
    const api = contactsApi(h, t.admin.token);
    await api.defineAttribute({ key: 'program', type: 'choice', options: programs });
    await api.defineAttribute({ key: 'grad_year', type: 'number' });
    await api.defineAttribute({ key: 'graduated_on', type: 'date' });
    await api.defineAttribute({ key: 'vip', type: 'boolean' });
    await api.defineAttribute({ key: 'nickname', type: 'text' });
    employers = [await api.createEmployer('Acme'), await api.createEmployer('Globex')];
    for (let i = 0; i < 40; i++) {
      // Some contacts share a creation instant, so the id tie-break is exercised.
      if (i % 3 !== 0) h.clock.advance(60_000);
      const attributes: Record<string, unknown> = {};
      if (i % 4 !== 3) attributes.program = programs[i % 3];
      if (i % 5 !== 0) attributes.grad_year = 2015 + (i % 7);
      if (i % 2 === 0) attributes.graduated_on = `20${10 + (i % 12)}-06-${String(1 + (i % 28)).padStart(2, '0')}`;
      attributes.vip = i % 6 === 0;
      contacts.push(
        await api.createContact({
          firstName: firstNames[i % firstNames.length],
          lastName: lastNames[i % lastNames.length],
          email: i % 8 === 7 ? null : `person${i}@Example${i % 3}.org`,
          organizationId: t.organizationIds[i % 2],
          employerId: i % 5 === 4 ? null : employers[i % 2].id,
          visibility: ['everyone', 'staff_only', 'owner_only'][i % 3 === 2 && i % 2 === 0 ? 2 : i % 7 === 1 ? 1 : 0],
          ownerUserId: t.admin.id,
          approvalStatus: ['approved', 'approved', 'pending', 'rejected'][i % 4 === 3 && i % 8 !== 7 ? 3 : i % 9 === 2 ? 2 : 0],
          source: ['manual', 'api', 'bulk_import'][i % 3],
          optInStatus: ['unknown', 'opted_in', 'opted_out'][i % 3],
          attributes,
        }),
      );
    }
  });

  type Oracle = (c: Profile) => boolean;
  const byCreatedDesc = (a: Profile, b: Profile) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1);
  const byLastName = (a: Profile, b: Profile) => {
    const [x, y] = [foldName(a.lastName), foldName(b.lastName)];
    return x === y ? (a.id < b.id ? -1 : 1) : x < y ? -1 : 1;
  };
  function expected(match: Oracle, order: (a: Profile, b: Profile) => number = byCreatedDesc, includeRejected = false): string[] {
    return contacts.filter((c) => (includeRejected || c.approvalStatus !== 'rejected') && match(c)).sort(order).map((c) => c.id);
  }
  async function ids(query: string): Promise<string[]> {
    return (await contactsApi(h, t.admin.token).list(`${query}&limit=200`)).items.map((i: { id: string }) => i.id);
  }

  it('each filter works on its own', async () => {
    const c5 = contacts[5];
    const cases: [string, Oracle, ((a: Profile, b: Profile) => number)?, boolean?][] = [
      ['', () => true],
      [`email=${encodeURIComponent('  PERSON5@example2.ORG ')}`, (c) => c.id === c5.id],
      ['email=nobody@example.org', () => false],
      [`lastName=${encodeURIComponent('MÜL')}`, (c) => foldName(c.lastName).startsWith('mul'), byLastName],
      [`lastName=${encodeURIComponent('o’b')}`, (c) => foldName(c.lastName).startsWith('ob'), byLastName],
      [`lastName=${encodeURIComponent('dupont lef')}`, (c) => c.lastName === 'Dupont-Lefèvre', byLastName],
      [`lastName=van`, (c) => foldName(c.lastName).startsWith('van'), byLastName],
      ['firstName=ad', (c) => foldName(c.firstName).startsWith('ad'), (a, b) => (foldName(a.firstName) === foldName(b.firstName) ? (a.id < b.id ? -1 : 1) : foldName(a.firstName) < foldName(b.firstName) ? -1 : 1)],
      ['q=emi', (c) => foldName(c.firstName).startsWith('emi')],
      ['q=smy', (c) => foldName(c.lastName).startsWith('smy')],
      ['q=person1', (c) => (c.email ?? '').toLowerCase().startsWith('person1')],
      [`organizationId=${t.organizationIds[1]}`, (c) => c.organizationId === t.organizationIds[1]],
      [`employerId=${employers[0].id}`, (c) => c.employer?.id === employers[0].id],
      ['visibility=staff_only', (c) => c.visibility === 'staff_only'],
      ['approvalStatus=rejected', (c) => c.approvalStatus === 'rejected', byCreatedDesc, true],
      ['approvalStatus=pending', (c) => c.approvalStatus === 'pending'],
      ['source=bulk_import', (c) => c.source === 'bulk_import'],
      ['optInStatus=opted_out', (c) => c.optInStatus === 'opted_out'],
      [`createdFrom=${contacts[10].createdAt}&createdTo=${contacts[20].createdAt}`, (c) => c.createdAt >= contacts[10].createdAt && c.createdAt < contacts[20].createdAt],
      ['attr.program=Law', (c) => c.attributes.program === 'Law'],
      ['attr.program=law', (c) => c.attributes.program === 'Law'],
      ['attr.program=Law&attr.program=Medicine', (c) => c.attributes.program === 'Law' || c.attributes.program === 'Medicine'],
      ['attr.grad_year=2019.0', (c) => c.attributes.grad_year === 2019],
      ['attr.grad_year.gte=2017&attr.grad_year.lte=2019', (c) => typeof c.attributes.grad_year === 'number' && c.attributes.grad_year >= 2017 && c.attributes.grad_year <= 2019],
      ['attr.graduated_on.gte=2015-01-01', (c) => typeof c.attributes.graduated_on === 'string' && c.attributes.graduated_on >= '2015-01-01'],
      ['attr.graduated_on.lte=2012-12-31', (c) => typeof c.attributes.graduated_on === 'string' && c.attributes.graduated_on <= '2012-12-31'],
      ['attr.vip=true', (c) => c.attributes.vip === true],
      ['attr.vip=false', (c) => c.attributes.vip === false],
    ];
    for (const [query, match, order, rejected] of cases) {
      const want = expected(match, order, rejected);
      expect(await ids(query), query).toEqual(want);
    }
    // The cases above are not vacuous: most select some but not all contacts.
    const sizes = await Promise.all(cases.slice(3).map(async ([q]) => (await ids(q)).length));
    expect(sizes.filter((n) => n > 0 && n < contacts.length).length).toBeGreaterThan(20);
  });

  it('filters combine', async () => {
    const cases: [string, Oracle, ((a: Profile, b: Profile) => number)?][] = [
      [`lastName=m&attr.program=Law&visibility=everyone`, (c) => foldName(c.lastName).startsWith('m') && c.attributes.program === 'Law' && c.visibility === 'everyone', byLastName],
      [`q=a&organizationId=${t.organizationIds[0]}&source=manual`, (c) => (foldName(c.firstName).startsWith('a') || foldName(c.lastName).startsWith('a') || (c.email ?? '').toLowerCase().startsWith('a')) && c.organizationId === t.organizationIds[0] && c.source === 'manual'],
      [`employerId=${employers[1].id}&attr.grad_year.gte=2018&attr.vip=false&optInStatus=opted_in`, (c) => c.employer?.id === employers[1].id && Number(c.attributes.grad_year) >= 2018 && c.attributes.vip === false && c.optInStatus === 'opted_in'],
      [`attr.program=Engineering&attr.grad_year.lte=2018&sort=lastName&order=desc`, (c) => c.attributes.program === 'Engineering' && Number(c.attributes.grad_year) <= 2018, (a, b) => -byLastName(a, b)],
      [`lastName=s&sort=createdAt&order=asc`, (c) => foldName(c.lastName).startsWith('s'), (a, b) => -byCreatedDesc(a, b)],
    ];
    for (const [query, match, order] of cases) {
      const want = expected(match, order);
      expect(want.length, query).toBeGreaterThan(0);
      expect(await ids(query), query).toEqual(want);
    }
  });

  it('cursor pagination returns every row once, in order, for every sort', async () => {
    const queries: [string, (a: Profile, b: Profile) => number, Oracle?][] = [
      ['', byCreatedDesc],
      ['sort=createdAt&order=asc', (a, b) => -byCreatedDesc(a, b)],
      ['sort=lastName', byLastName],
      ['sort=lastName&order=desc', (a, b) => -byLastName(a, b)],
      ['lastName=m', byLastName, (c) => foldName(c.lastName).startsWith('m')],
      ['attr.program=Law&sort=lastName', byLastName, (c) => c.attributes.program === 'Law'],
      ['q=s', byCreatedDesc, (c) => [c.firstName, c.lastName].some((n) => foldName(n).startsWith('s'))],
    ];
    for (const [query, order, match] of queries) {
      const want = expected(match ?? (() => true), order);
      for (const limit of [1, 3, 7]) {
        const { ids: got, pages } = await allPages(h, t.admin.token, query, limit);
        expect(got, `${query} limit ${limit}`).toEqual(want);
        expect(new Set(got).size).toBe(got.length);
        expect(pages).toBe(Math.max(1, Math.ceil(want.length / limit)));
      }
    }
  });

  it('gives the same answer whichever index drives the query', async () => {
    const filterSets: DirectoryFilters[] = [
      { lastName: 'm', sort: 'createdAt' },
      { firstName: 'a', sort: 'lastName' },
      { q: 'sm' },
      { employerId: employers[0].id },
      { attributes: [{ key: 'program', op: 'eq', values: ['Law'] }], sort: 'lastName' },
      { attributes: [{ key: 'program', op: 'eq', values: ['Law'] }] },
      { attributes: [{ key: 'program', op: 'eq', values: ['Engineering'] }, { key: 'vip', op: 'eq', values: ['false'] }], order: 'asc' },
      { attributes: [{ key: 'program', op: 'eq', values: ['Medicine'] }], firstName: 'a', sort: 'createdAt' },
      { attributes: [{ key: 'grad_year', op: 'gte', values: ['2018'] }, { key: 'vip', op: 'eq', values: ['false'] }], lastName: 'm' },
      { email: 'person4@example1.org', attributes: [{ key: 'vip', op: 'eq', values: ['false'] }] },
      { createdFrom: contacts[5].createdAt, sort: 'lastName', attributes: [{ key: 'program', op: 'eq', values: ['Engineering'] }] },
    ];
    for (const filters of filterSets) {
      const results: string[][] = [];
      const plans = [{ driveLimit: 0, attributeWalk: false }, { driveLimit: 1_000_000 }, { driveLimit: 0 }, {}];
      for (const plan of plans) {
        const seen: string[] = [];
        let after: string | undefined;
        do {
          const page = await searchDirectory(h.ctx, t.institutionId, systemViewer, { ...filters, limit: 4, after }, plan);
          seen.push(...page.items.map((i) => i.id));
          after = page.nextCursor ?? undefined;
        } while (after);
        results.push(seen);
      }
      expect(results[0].length, JSON.stringify(filters)).toBeGreaterThan(0);
      if (h.kind === 'sqlite' && !filters.email) {
        const walk = (await directoryQuery(h.ctx, t.institutionId, systemViewer, filters, { driveLimit: 0, attributeWalk: false })).compile().sql;
        const driven = (await directoryQuery(h.ctx, t.institutionId, systemViewer, filters, { driveLimit: 1_000_000 })).compile().sql;
        expect(driven, JSON.stringify(filters)).not.toBe(walk);
      }
      for (const r of results.slice(1)) expect(r, JSON.stringify(filters)).toEqual(results[0]);
    }
  });

  it('on SQLite, a query driven by a search, an employer or an attribute never walks the tenant instead (no planner statistics)', async () => {
    if (h.kind !== 'sqlite') return;
    const cases: [DirectoryFilters, RegExp][] = [
      [{ q: 'sm' }, /MULTI-INDEX OR/],
      [{ q: 'sm', sort: 'lastName' }, /MULTI-INDEX OR/],
      [{ employerId: employers[0].id }, /USING INDEX contacts_employer \(employer_id=\?\)/],
      [{ attributes: [{ key: 'program', op: 'eq', values: ['Law'] }], sort: 'lastName' }, /attribute_values_lookup \(attribute_id=\? AND value_text=\?\)/],
    ];
    for (const [filters, driver] of cases) {
      const query = (await directoryQuery(h.ctx, t.institutionId, systemViewer, filters, { driveLimit: 1_000_000 })).compile();
      const plan = (await h.ctx.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]))).rows.map((r) => r.detail);
      expect(plan.join('\n'), JSON.stringify(filters)).toMatch(driver);
      // Written plainly, the tenant condition alone was the access path: every contact of the institution read.
      expect(plan.some((line) => /USING (COVERING )?INDEX \w+ \(institution_id=\?\)$/.test(line)), plan.join('\n')).toBe(false);
    }
  });

  it('on SQLite walks an attribute index in creation order when it sorts by creation', async () => {
    const filters: DirectoryFilters = { attributes: [{ key: 'program', op: 'eq', values: ['Law'] }] };
    const compiled = (await directoryQuery(h.ctx, t.institutionId, systemViewer, filters, { driveLimit: 0 })).compile().sql;
    expect(compiled.includes('cross join')).toBe(h.kind === 'sqlite');
    const sorted = (await directoryQuery(h.ctx, t.institutionId, systemViewer, { ...filters, sort: 'lastName' }, { driveLimit: 0 })).compile().sql;
    expect(sorted).not.toContain('cross join');
  });

  it('is scoped to what the viewer may see, whatever the filters', async () => {
    const employerUser = await h.user(t, 'employer_user');
    const got = (await contactsApi(h, employerUser.token).list('attr.program=Law&limit=200')).items.map((i: { id: string }) => i.id);
    expect(got).toEqual(expected((c) => c.attributes.program === 'Law' && c.visibility === 'everyone'));
    const other = await h.tenant();
    expect((await contactsApi(h, other.admin.token).list('limit=200')).items).toEqual([]);
  });

  it('refuses unknown filters, unknown attributes, impossible values and foreign cursors', async () => {
    const api = contactsApi(h, t.admin.token);
    const cases: [string, number, string][] = [
      ['colour=red', 400, 'colour'],
      ['attr.unknown=x', 422, 'attr.unknown'],
      ['attr.program=Art', 422, 'attr.program'],
      ['attr.grad_year=soon', 422, 'attr.grad_year'],
      ['attr.nickname.gte=a', 422, 'attr.nickname.gte'],
      ['attr.vip=maybe', 422, 'attr.vip'],
      ['limit=201', 400, 'limit'],
      ['sort=email', 400, 'sort'],
      ['after=garbage', 422, 'after'],
    ];
    for (const [query, status, field] of cases) {
      const res = await api.call('GET', `/api/contacts?${query}`);
      expect(res.statusCode, query).toBe(status);
      expect(res.json().errors.map((e: { field: string }) => e.field).join(' '), query).toContain(field);
    }
    const page = await api.list('limit=2&sort=lastName');
    const mixed = await api.call('GET', `/api/contacts?limit=2&sort=createdAt&after=${page.nextCursor}`);
    expect(mixed.statusCode).toBe(422);
  });
});
