import { CompiledQuery, sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { lookupSql } from './duplicates.ts';
import type { IndexedLookup } from './rules/match.ts';

/**
 * "A check costs a few index look-ups whatever the store's size": the duplicate statement for
 * every shape of look-up reads contacts only through the index on (institution, that column), on
 * both engines, never by scanning the table or a wider index. PostgreSQL plans from statistics,
 * so it gets an institution of 20,000 analysed contacts first.
 */
const shapes: IndexedLookup['column'][][] = [
  ['email_normalized'],
  ['mobile_e164'],
  ['email_normalized', 'mobile_e164'],
  ['email_normalized', 'mobile_e164', 'ssn_hash_full'],
  ['ssn_hash_full'],
];

describeEachEngine('duplicate look-ups use indexes', (h) => {
  let institutionId = '';

  it('sets up an institution with many contacts', async () => {
    institutionId = (await h.tenant()).institutionId;
    if (h.kind !== 'postgres') return;
    await sql`
      insert into contacts (id, institution_id, first_name, last_name, first_name_folded, last_name_folded, email, email_normalized, mobile_e164, ssn_hash_full,
                            visibility, approval_status, source, opt_in_status, created_at, updated_at)
      select 'plan-' || g, ${institutionId}, 'P', 'Q' || (g % 500), 'p', 'q' || (g % 500), 'p' || g || '@example.org', 'p' || g || '@example.org',
             '+1212555' || lpad(g::text, 5, '0'), md5(g::text), 'everyone', 'approved', 'manual', 'unknown', now(), now()
      from generate_series(1, 20000) g`.execute(h.ctx.db);
    await sql`analyze contacts`.execute(h.ctx.db);
  });

  it.each(shapes.flatMap((columns) => [true, false].map((includeDisabled) => ({ columns, includeDisabled, name: `${columns.join(' + ')}${includeDisabled ? ' (with disabled)' : ''}` }))))(
    '$name',
    async ({ columns, includeDisabled }) => {
      const text = lookupSql(h.ctx.db, columns.map((column) => ({ column, value: 'x' })), includeDisabled);
      const parameters = columns.flatMap(() => [institutionId, 'p77@example.org']);
      if (h.kind === 'sqlite') {
        const plan = await h.ctx.db.transaction().execute(async (trx) => {
          const rows = await trx.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${text}`, parameters));
          return rows.rows.map((r) => r.detail);
        });
        const contactSteps = plan.filter((d) => /\bcontacts\b/.test(d));
        expect(contactSteps, plan.join('\n')).toHaveLength(columns.length);
        for (const step of contactSteps) expect(step, plan.join('\n')).toMatch(/^SEARCH contacts USING (COVERING )?INDEX contacts_(email|mobile|ssn_full) \(institution_id=\? AND (email_normalized|mobile_e164|ssn_hash_full)=\?\)/);
        expect(plan.join('\n')).not.toMatch(/SCAN contacts|SCAN disabled_contacts/);
      } else {
        const plan = await h.ctx.db.transaction().execute(async (trx) => {
          const rows = await trx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${text}`, parameters));
          return rows.rows.map((r) => r['QUERY PLAN']).join('\n');
        });
        expect(plan).not.toMatch(/Seq Scan on contacts/);
        expect(plan).not.toMatch(/contacts_full_name/);
        expect(plan.match(/Index (Only )?Scan using contacts_(email|mobile|ssn_full) on contacts|Bitmap Index Scan on contacts_(email|mobile|ssn_full)/g) ?? [], plan).toHaveLength(columns.length);
      }
    },
  );
});
