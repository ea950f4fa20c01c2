import { CompiledQuery } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { newId } from '../ids.ts';
import type { Viewer } from '../contacts/visibility.ts';
import { contactsTable, rowidRangeQuery, type ExportScope } from './sources.ts';

// A team's export reads the table in rowid ranges on reader threads (SQLite) or in id order
// (PostgreSQL): either way each contact the viewer may see comes exactly once, with its values.
describeEachEngine('a team export reads each contact it may see exactly once', (h) => {
  it('across sparse and dense stretches of the table, with attributes, authorizations and visibility', { timeout: 120_000 }, async () => {
    const t = await h.tenant();
    const stranger = await h.tenant();
    const { id: attributeId } = await contactsApi(h, t.admin.token).defineAttribute({ key: 'program', label: 'Program', type: 'text' });
    const [team, otherTeam] = t.organizationIds;
    const owner = await h.user(t, 'staff');
    const now = h.clock.now().getTime();

    // 2,500 rows of other teams and tenants first (a sparse stretch for the team), then 4,000
    // where every other row is the team's (dense), then another sparse stretch.
    const plan: ('team' | 'other-team' | 'stranger')[] = [];
    for (let i = 0; i < 2500; i++) plan.push(i % 25 === 0 ? 'team' : i % 2 ? 'other-team' : 'stranger');
    for (let i = 0; i < 4000; i++) plan.push(i % 2 ? 'team' : 'stranger');
    for (let i = 0; i < 1500; i++) plan.push(i % 50 === 0 ? 'team' : 'stranger');

    const expected: { id: string; program: string | null; grants: boolean }[] = [];
    const hiddenFromViewer = new Set<string>();
    for (let from = 0; from < plan.length; from += 500) {
      const contacts = [];
      const values = [];
      const grants = [];
      for (let i = from; i < Math.min(from + 500, plan.length); i++) {
        const created = new Date(now - (plan.length - i) * 1000).toISOString();
        const id = newId(Date.parse(created));
        const mine = plan[i] !== 'stranger';
        const ownerOnly = plan[i] === 'team' && i % 7 === 0;
        contacts.push({
          id, institution_id: mine ? t.institutionId : stranger.institutionId, organization_id: plan[i] === 'team' ? team : plan[i] === 'other-team' ? otherTeam : stranger.organizationIds[0],
          first_name: `First${i}`, last_name: `Last${i}`, first_name_folded: `first${i}`, last_name_folded: `last${i}`, email: `p${i}@example.org`, email_normalized: `p${i}@example.org`,
          mobile_phone: null, mobile_e164: null, ssn_hash_full: null, ssn_hash_last6: null, ssn_hash_last4: null, employer_id: null,
          owner_user_id: ownerOnly ? owner.id : null, visibility: ownerOnly ? ('owner_only' as const) : ('everyone' as const), approval_status: 'approved' as const,
          source: 'bulk_import' as const, opt_in_status: 'unknown' as const, opt_in_changed_at: null, created_at: created, updated_at: created,
        });
        const program = mine && i % 3 === 0 ? `=program ${i}` : null;
        if (program) values.push({ contact_id: id, attribute_id: attributeId, institution_id: t.institutionId, value_text: program, value_number: null });
        const granted = mine && i % 11 === 0;
        if (granted) grants.push({ contact_id: id, institution_id: t.institutionId, purpose: 'newsletter', granted: 1 as const, updated_at: created });
        if (plan[i] === 'team') (ownerOnly ? hiddenFromViewer.add(id) : expected.push({ id, program, grants: granted }));
      }
      await h.ctx.db.insertInto('contacts').values(contacts).execute();
      if (values.length) await h.ctx.db.insertInto('contact_attribute_values').values(values).execute();
      if (grants.length) await h.ctx.db.insertInto('contact_authorizations').values(grants).execute();
    }

    const viewer: Viewer = { userId: null, seeStaffOnly: true, seeAllOwners: false };
    const table = await contactsTable(h.ctx, t.institutionId, { type: 'organization', organizationId: team }, viewer);
    const rows: unknown[][] = [];
    for await (const page of table.pages) rows.push(...page);

    const ids = rows.map((r) => r[0] as string);
    expect(new Set(ids).size).toBe(ids.length);
    if (h.kind === 'sqlite') expect(ids).toEqual(expected.map((e) => e.id)); // storage order
    else expect([...ids].sort()).toEqual(expected.map((e) => e.id).sort());
    expect(ids.some((id) => hiddenFromViewer.has(id))).toBe(false);

    const programAt = table.columns.indexOf('attr.program');
    const grantsAt = table.columns.indexOf('authorizations');
    const byId = new Map(rows.map((r) => [r[0], r]));
    for (const e of expected) {
      const row = byId.get(e.id)!;
      expect(row[programAt] ?? null).toBe(e.program);
      expect(row[grantsAt]).toEqual(e.grants ? { newsletter: { granted: true, updatedAt: expect.any(String) } } : null);
      expect(row[table.columns.indexOf('organization_id')]).toBe(team);
    }
  });
});

// Lethe never gathers ANALYZE statistics, and without them SQLite would serve the tenant condition
// from an index led by institution_id, reading the whole tenant again for every range.
describeEachEngine('a rowid range of an export', (h) => {
  it.runIf(h.kind === 'sqlite')('is read through the range alone, whatever the scope', async () => {
    const t = await h.tenant();
    const viewer: Viewer = { userId: null, seeStaffOnly: false, seeAllOwners: false };
    const scopes: Exclude<ExportScope, { type: 'contacts' }>[] = [
      { type: 'organization', organizationId: t.organizationIds[0] },
      { type: 'project', projectId: newId() },
      { type: 'sequence', sequenceId: newId() },
      { type: 'subject', contactIds: [newId()] },
    ];
    for (const scope of scopes) {
      const query = rowidRangeQuery(h.ctx.db, t.institutionId, scope, viewer)(0, 1000);
      const plan = await h.ctx.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]));
      const steps = plan.rows.map((r) => r.detail);
      const contactsStep = steps.find((d) => /^(SEARCH|SCAN) contacts\b/.test(d));
      expect(contactsStep, `${scope.type}: ${steps.join(' | ')}`).toBe('SEARCH contacts USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)');
    }
  });
});
