import { CompiledQuery } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { newId } from '../ids.ts';
import { contactsInTenant } from './by-ids.ts';

describeEachEngine('contacts by ids within one institution', (h) => {
  const contactIn = async (institutionId: string) => {
    const id = newId();
    const at = new Date().toISOString();
    await h.ctx.db
      .insertInto('contacts')
      .values({ id, institution_id: institutionId, first_name: 'Ada', last_name: 'Byron', first_name_folded: 'ada', last_name_folded: 'byron', visibility: 'everyone', approval_status: 'approved', source: 'manual', opt_in_status: 'unknown', created_at: at, updated_at: at })
      .execute();
    return id;
  };

  it("finds the institution's own contacts among the ids and never another's", async () => {
    const mine = (await h.tenant()).institutionId;
    const theirs = (await h.tenant()).institutionId;
    const own = [await contactIn(mine), await contactIn(mine)];
    const other = await contactIn(theirs);
    const rows = await h.ctx.db.selectFrom('contacts').select('id').where(contactsInTenant(h.ctx.db, mine, [...own, other, 'no-such-id'])).execute();
    expect(rows.map((r) => r.id).sort()).toEqual([...own].sort());
  });

  it('looks the ids up by primary key on a store without planner statistics (SQLite)', async () => {
    if (h.kind !== 'sqlite') return;
    const institutionId = (await h.tenant()).institutionId;
    const ids = Array.from({ length: 1000 }, () => newId());
    const query = h.ctx.db.selectFrom('contacts').selectAll().where(contactsInTenant(h.ctx.db, institutionId, ids)).compile();
    const plan = await h.ctx.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]));
    const details = plan.rows.map((r) => r.detail);
    // Written plainly (institution_id = ? and id in …), SQLite walks a tenant-led index instead.
    expect(details.join('\n')).toMatch(/^SEARCH contacts USING INDEX sqlite_autoindex_contacts_1 \(id=\?\)$/);
  });
});
