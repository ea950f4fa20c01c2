import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachEngine, type Harness } from '../../test/support/harness.ts';
import { cascadeTables, unlinkedContactTables } from './storage.ts';

/**
 * Tables that name a contact but are neither in the foreign-key closure under `contacts` nor
 * erased by id, each with the reason it is safe. A table added later that names a contact lands
 * in none of these lists and fails this test, instead of silently keeping erased people's rows.
 */
const erasedOtherwise: Record<string, string> = {
  bulk_job_items: "a running job's snapshot of ids, deleted when the job ends",
  possible_duplicates: 'pairs of ids; rows go with either contact by cascade (checked below)',
  exports: "a subject-access export names its contact by id only; erasure destroys the file and its key (destroyExportsHolding)",
  retention_run_items: "a retention run's report: ids and outcomes only, kept with the run",
};

/** Columns whose foreign key to contacts is ON DELETE SET NULL: the row stays, no longer naming anyone. */
async function setNullColumns(h: Harness): Promise<Set<string>> {
  const rows =
    h.kind === 'sqlite'
      ? (await sql<{ t: string; c: string }>`select m.name as t, f."from" as c from sqlite_master m, pragma_foreign_key_list(m.name) f where m.type = 'table' and f."table" = 'contacts' and f.on_delete = 'SET NULL'`.execute(h.ctx.db)).rows
      : (
          await sql<{ t: string; c: string }>`select k.conrelid::regclass::text as t, a.attname as c from pg_constraint k join pg_attribute a on a.attrelid = k.conrelid and a.attnum = any(k.conkey) where k.contype = 'f' and k.confrelid = 'contacts'::regclass and k.confdeltype = 'n'`.execute(h.ctx.db)
        ).rows;
  return new Set(rows.map((r) => `${r.t}.${r.c}`));
}

async function columnsNamingAContact(h: Harness): Promise<Map<string, string[]>> {
  const rows =
    h.kind === 'sqlite'
      ? (await sql<{ t: string; c: string }>`select m.name as t, p.name as c from sqlite_master m, pragma_table_info(m.name) p where m.type = 'table'`.execute(h.ctx.db)).rows
      : (await sql<{ t: string; c: string }>`select table_name as t, column_name as c from information_schema.columns where table_schema = 'public'`.execute(h.ctx.db)).rows;
  const out = new Map<string, string[]>();
  for (const r of rows) if (/(^|_)contact(_[ab])?_id$/.test(r.c)) out.set(r.t, [...(out.get(r.t) ?? []), r.c]);
  return out;
}

describeEachEngine('erasure reaches every table that names a contact', (h) => {
  it('each such table is in the cascade closure under contacts, erased by id, or listed with its reason', async () => {
    const closure = new Set(await cascadeTables(h.ctx, h.ctx.db));
    const unlinked = new Set<string>(unlinkedContactTables);
    const setNull = await setNullColumns(h);
    const missed = [...(await columnsNamingAContact(h))]
      .filter(([t, columns]) => t !== 'contacts' && !closure.has(t) && !unlinked.has(t) && !(t in erasedOtherwise) && !columns.every((c) => setNull.has(`${t}.${c}`)))
      .map(([t]) => t);
    expect(missed, 'tables naming a contact that delete/expunge would leave behind: add a cascading foreign key or erase them in erase.ts').toEqual([]);
    // The pairs table is listed for its reason, which must stay true.
    if ((await columnsNamingAContact(h)).has('possible_duplicates')) expect(closure.has('possible_duplicates')).toBe(true);
  });
});
