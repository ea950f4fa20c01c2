import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachEngine, drainJobs, type Harness, type SeededTenant } from '../../test/support/harness.ts';
import { recordActivity } from '../activity/events.ts';
import { cliActor } from '../audit/audit-log.ts';
import { runItems, startInactiveRun } from './inactive-runs.ts';
import { atMostPendingBeneficiaryLines, beneficiaryLinesQuery, snapshotStatement } from './inactive-selection.ts';
import { histogramByDefinition, recencyHistogram } from './recency-histogram.ts';
import { newContact, post, sale } from './test-support.ts';

/**
 * The simulation's figures on a world built around the edges of the faster statements: months that
 * end in 9 and 12 (their text ranges), contacts with and without a recency row on both sides of the
 * cutoff (one exactly on it), anonymised stubs with and without a row, orders shared with an active
 * contact or with a stub, and another institution's contacts in the same months.
 */
interface World {
  t: SeededTenant;
  ids: Record<string, string>;
}

async function world(h: Harness): Promise<World> {
  const ids: Record<string, string> = {};
  h.clock.set('2021-09-01T00:00:00.000Z');
  const t = await h.tenant();
  const other = await h.tenant();
  const at = async (instant: string, name: string, tenant = t) => {
    h.clock.set(instant);
    ids[name] = await newContact(h, tenant, name);
  };
  // No recency row: their creation dates count.
  await at('2021-09-15T10:00:00.000Z', 'sepProspect');
  await at('2021-12-31T23:59:59.999Z', 'decProspect');
  await at('2021-09-20T00:00:00.000Z', 'stubWithoutRow');
  await at('2023-01-14T23:59:59.999Z', 'justBeforeCutoff');
  await at('2023-01-15T00:00:00.000Z', 'onCutoff');
  await at('2025-03-03T08:00:00.000Z', 'newProspect');
  await at('2021-09-16T00:00:00.000Z', 'otherInstitution', other);
  // A recency row each (created in January 2022, so their creation month never shows).
  for (const name of ['janBuyer', 'clicker', 'stubWithRow', 'stubPartner', 'sharedInactive', 'activeBuyer']) await at('2022-01-05T00:00:00.000Z', name);
  const named = { product: 'Match', dated: false, amountCents: 100, beneficiary: { firstName: 'Bene', lastName: 'Ficiary' } };
  const order = (ref: string, orderedAt: string, contacts: string[], lines: object[]) =>
    post(h, t.admin.token, '/api/ticketing/orders', { externalRef: ref, kind: 'sale', orderedAt, contacts: contacts.map((c, i) => ({ contactId: ids[c], role: i === 0 ? 'purchase' : 'cultural' })), lines });
  await order('A', '2022-09-30T23:00:00Z', ['janBuyer'], [named]);
  await post(h, t.admin.token, '/api/ticketing/orders', sale(ids.janBuyer, 'D', '2022-02-01T00:00:00Z'));
  await order('B', '2022-03-01T00:00:00Z', ['sharedInactive', 'activeBuyer'], [named]);
  await post(h, t.admin.token, '/api/ticketing/orders', sale(ids.activeBuyer, 'E', '2025-06-01T00:00:00Z'));
  await order('C', '2022-09-10T00:00:00Z', ['stubWithRow', 'stubPartner'], [named]);
  await h.ctx.db.transaction().execute((trx) =>
    recordActivity(trx, { institutionId: t.institutionId, contactId: ids.clicker, organizationId: null, actorUserId: null, type: 'link.clicked', occurredAt: '2022-12-01T00:00:00.000Z' }),
  );
  await h.ctx.db
    .insertInto('anonymised_contacts')
    .values(['stubWithRow', 'stubWithoutRow'].map((name) => ({ stub_id: ids[name], institution_id: t.institutionId, anonymised_at: '2024-01-01T00:00:00.000Z', run_id: null })))
    .execute();
  // 36 months before this: a cutoff of 2023-01-15T00:00:00Z.
  h.clock.set('2026-01-15T09:00:00.000Z');
  return { t, ids };
}

describeEachEngine('inactive-contact simulation: the set, histogram and beneficiary count its statements compute', (h) => {
  it('reports the contacts, months and beneficiary names the definitions give, on both sides of the cutoff', async () => {
    const { t, ids } = await world(h);
    const run = await startInactiveRun(h.ctx, t.institutionId, { months: 36, execute: false, actor: cliActor });
    expect(run.cutoff).toBe('2023-01-15T00:00:00.000Z');
    await drainJobs(h);
    const done = (await h.request(t.admin.token, { method: 'GET', url: `/api/retention/runs/${run.id}` })).json();
    expect(done.status).toBe('succeeded');

    const nameOf = new Map(Object.entries(ids).map(([name, id]) => [id, name]));
    const items = await runItems(h.ctx.db, run.id);
    expect(Object.fromEntries(items.map((i) => [nameOf.get(i.contactId), i.outcome]))).toEqual({
      sepProspect: 'delete',
      decProspect: 'delete',
      justBeforeCutoff: 'delete',
      clicker: 'delete',
      janBuyer: 'anonymise',
      stubPartner: 'anonymise',
      sharedInactive: 'anonymise',
    });
    // The selection as the batch has always defined it (not exists for stubs, the contact's own row for its organization).
    const reference = await sql<{ id: string; organization_id: string | null }>`
      select c.id, (select o.organization_id from contacts o where o.id = c.id) as organization_id
      from contacts c left join contact_recency r on r.contact_id = c.id
      where c.institution_id = ${t.institutionId} and coalesce(r.recency_at, c.created_at) < ${run.cutoff}
        and not exists (select 1 from anonymised_contacts a where a.stub_id = c.id)
      order by c.id`.execute(h.ctx.db);
    const snapshot = await h.ctx.db.selectFrom('retention_run_items').select(['contact_id as id', 'organization_id']).where('run_id', '=', run.id).orderBy('contact_id').execute();
    expect(snapshot).toEqual(reference.rows);
    expect(done.report.totals).toEqual({ prospectsToDelete: 4, customersToAnonymise: 3, beneficiaryNamesToAnonymise: 2 });

    const expectedMonths = [
      { month: '2021-09', contacts: 1 },
      { month: '2021-12', contacts: 1 },
      { month: '2022-03', contacts: 1 },
      { month: '2022-09', contacts: 2 },
      { month: '2022-12', contacts: 1 },
      { month: '2023-01', contacts: 2 },
      { month: '2025-03', contacts: 1 },
      { month: '2025-06', contacts: 1 },
    ];
    expect(done.report.histogram).toEqual(expectedMonths);
    expect(await histogramByDefinition(h.ctx.db, t.institutionId)).toEqual(expectedMonths);

    // Lines A (its only contact is in the run) and C (the other contact is a stub); not B (shared with an active buyer).
    // Three lines carry names, as many as the run's customers: the report walked the lines.
    expect(await atMostPendingBeneficiaryLines(h.ctx.db, t.institutionId, 3)).toBe(true);
    expect(await atMostPendingBeneficiaryLines(h.ctx.db, t.institutionId, 2)).toBe(false);
    for (const drivenBy of ['contacts', 'lines'] as const) {
      const lines = await beneficiaryLinesQuery(h.ctx.db, t.institutionId, { runId: run.id, drivenBy }).execute();
      expect(lines, drivenBy).toHaveLength(2);
    }
  });

  it('counts contacts without a recency row wherever they are, and none once every contact has one', async () => {
    const { t, ids } = await world(h);
    expect(await recencyHistogram(h.ctx.db, t.institutionId)).toEqual(await histogramByDefinition(h.ctx.db, t.institutionId));
    // Every contact without a row gets one (the walk over creation months has nothing left to find).
    for (const name of ['sepProspect', 'decProspect', 'justBeforeCutoff', 'onCutoff', 'newProspect', 'stubWithoutRow']) {
      await h.ctx.db.transaction().execute((trx) =>
        recordActivity(trx, { institutionId: t.institutionId, contactId: ids[name], organizationId: null, actorUserId: null, type: 'link.clicked', occurredAt: '2024-09-09T00:00:00.000Z' }),
      );
    }
    const everyoneHasRow = await recencyHistogram(h.ctx.db, t.institutionId);
    expect(everyoneHasRow).toEqual(await histogramByDefinition(h.ctx.db, t.institutionId));
    expect(everyoneHasRow.find((m) => m.month === '2024-09')).toEqual({ month: '2024-09', contacts: 5 });
    expect(everyoneHasRow.some((m) => m.month === '2021-09' || m.month === '2021-12')).toBe(false);
  });

  it.runIf(h.kind === 'sqlite')('SQLite reads the snapshot from index entries: no contact row, no sort', async () => {
    const { t } = await world(h);
    const plan = await sql<{ detail: string }>`explain query plan ${snapshotStatement('plan', t.institutionId, '2023-01-15T00:00:00.000Z')}`.execute(h.ctx.db);
    const details = plan.rows.map((r) => r.detail).join('\n');
    expect(details).toContain('SEARCH c USING COVERING INDEX contacts_created');
    expect(details).not.toContain('TEMP B-TREE');
  });
});
