import { describe, expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { sql } from 'kysely';
import { batchSizes, compiledOnce, fanOutRows, insertRow, insertRows, type OnConflict } from './compiled-once.ts';

describeEachEngine('compiledOnce', (h) => {
  it('builds a query once and runs it with each call’s values, in and out of transactions', async () => {
    let builds = 0;
    const insertHead = compiledOnce((db, p: { chain: string; seq: number; hash: string }) => {
      builds++;
      return db.insertInto('audit_chain_heads').values({ chain: p.chain, last_seq: p.seq, last_hash: p.hash, anchor_hash: p.hash });
    });
    const headOf = compiledOnce((db, p: { chain: string }) => db.selectFrom('audit_chain_heads').select(['last_seq', 'last_hash']).where('chain', '=', p.chain));

    await insertHead.execute(h.ctx.db, { chain: 'compiled-a', seq: 1, hash: 'h-a' });
    await h.ctx.db.transaction().execute(async (trx) => {
      const written = await insertHead.execute(trx, { chain: 'compiled-b', seq: 2, hash: 'h-b' });
      expect(Number(written.numAffectedRows)).toBe(1);
      expect(await headOf.executeTakeFirst(trx, { chain: 'compiled-b' })).toEqual({ last_seq: 2, last_hash: 'h-b' });
    });
    expect(builds).toBe(1);
    expect(await headOf.executeTakeFirst(h.ctx.db, { chain: 'compiled-a' })).toEqual({ last_seq: 1, last_hash: 'h-a' });
    expect(await headOf.executeTakeFirst(h.ctx.db, { chain: 'nobody' })).toBeUndefined();
    expect((await headOf.execute(h.ctx.db, { chain: 'compiled-b' })).rows).toHaveLength(1);
  });

  it('refuses a run that leaves a value out instead of binding a NULL', async () => {
    const headOf = compiledOnce((db, p: { chain: string }) => db.selectFrom('audit_chain_heads').select('last_seq').where('chain', '=', p.chain));
    await expect(headOf.executeTakeFirst(h.ctx.db, {} as { chain: string })).rejects.toThrow('no value for "chain"');
  });

  it('insertRow binds each row of one shape to the same INSERT, and builds other shapes as usual', async () => {
    const head = (chain: string) => h.ctx.db.selectFrom('audit_chain_heads').selectAll().where('chain', '=', chain).executeTakeFirst();
    await insertRow(h.ctx.db, 'audit_chain_heads', { chain: 'row-1', last_seq: 1, last_hash: 'x1', anchor_hash: 'a1' });
    await h.ctx.db.transaction().execute((trx) => insertRow(trx, 'audit_chain_heads', { chain: 'row-2', last_seq: 2, last_hash: 'x2', anchor_hash: 'a2' }));
    // Same columns in another order: a shape of its own, values still land in their columns.
    await insertRow(h.ctx.db, 'audit_chain_heads', { last_hash: 'x3', anchor_hash: 'a3', last_seq: 3, chain: 'row-3' });
    // An undefined value and an SQL expression cannot be re-bound: built as usual.
    await insertRow(h.ctx.db, 'data_keys', { subject_id: 'row-4', institution_id: undefined, wrapped_key: 'k4', created_at: '2026-11-24T00:00:00.000Z' });
    await insertRow(h.ctx.db, 'audit_chain_heads', { chain: 'row-5', last_seq: 5, last_hash: sql<string>`'x' || '5'` as unknown as string, anchor_hash: 'a5' });
    await insertRow(h.ctx.db, 'audit_chain_heads', { chain: 'row-6', last_seq: 6, last_hash: 'x6', anchor_hash: 'a6' });
    expect(await head('row-1')).toMatchObject({ last_seq: 1, last_hash: 'x1', anchor_hash: 'a1' });
    expect(await head('row-2')).toMatchObject({ last_seq: 2, last_hash: 'x2', anchor_hash: 'a2' });
    expect(await head('row-3')).toMatchObject({ last_seq: 3, last_hash: 'x3', anchor_hash: 'a3' });
    expect(await h.ctx.db.selectFrom('data_keys').selectAll().where('subject_id', '=', 'row-4').executeTakeFirst()).toMatchObject({ institution_id: null, wrapped_key: 'k4' });
    expect(await head('row-5')).toMatchObject({ last_seq: 5, last_hash: 'x5', anchor_hash: 'a5' });
    expect(await head('row-6')).toMatchObject({ last_seq: 6, last_hash: 'x6', anchor_hash: 'a6' });
  });
  it('insertRows writes many rows per statement, reads a column back, and falls back when rows differ in shape', async () => {
    const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ chain: `many-${from + i}`, last_seq: from + i, last_hash: `h${from + i}`, anchor_hash: 'a' }));
    await insertRows(h.ctx.db, 'audit_chain_heads', rows(0, 3));
    await insertRows(h.ctx.db, 'audit_chain_heads', rows(3, 3)); // the same shape again: the compiled statement
    const returned = await insertRows(h.ctx.db, 'audit_chain_heads', rows(6, 2), 'chain');
    expect(returned.rows.map((r) => r.chain)).toEqual(['many-6', 'many-7']);
    // The second row names its columns in another order: built as usual, every value in its column.
    await insertRows(h.ctx.db, 'audit_chain_heads', [rows(8, 1)[0], { anchor_hash: 'b', last_hash: 'h9', last_seq: 9, chain: 'many-9' }]);
    expect(await insertRows(h.ctx.db, 'audit_chain_heads', [])).toEqual({ rows: [] });
    const stored = await h.ctx.db.selectFrom('audit_chain_heads').selectAll().where('chain', 'like', 'many-%').orderBy('last_seq').execute();
    expect(stored.map((r) => [r.chain, Number(r.last_seq), r.last_hash, r.anchor_hash])).toEqual([
      ...rows(0, 9).map((r) => [r.chain, r.last_seq, r.last_hash, r.anchor_hash]),
      ['many-9', 9, 'h9', 'b'],
    ]);
  });

  it('insertRows writes any number of rows in batches and reads every one back in insert order', async () => {
    const rows = Array.from({ length: 700 }, (_, i) => ({ chain: `batch-${String(i).padStart(4, '0')}`, last_seq: i, last_hash: `h${i}`, anchor_hash: 'a' }));
    const returned = await h.ctx.db.transaction().execute((trx) => insertRows(trx, 'audit_chain_heads', rows, 'chain'));
    expect(returned.rows.map((r) => r.chain)).toEqual(rows.map((r) => r.chain));
    const stored = await h.ctx.db.selectFrom('audit_chain_heads').select(['chain', 'last_seq']).where('chain', 'like', 'batch-%').orderBy('chain').execute();
    expect(stored.map((r) => [r.chain, Number(r.last_seq)])).toEqual(rows.map((r) => [r.chain, r.last_seq]));
  });

  it('on SQLite, insertRows reports the last inserted rowid (the integer key) without reading rows back', async () => {
    if (h.ctx.store.kind !== 'sqlite') return;
    const event = (i: number, data: string | undefined) => ({ institution_id: 'i-rowid', contact_id: `c${i}`, organization_id: null, actor_user_id: null, type: 'note.added', occurred_at: '2026-11-24T00:00:00.000Z', data });
    const last = () => h.ctx.db.selectFrom('activity_events').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirstOrThrow();
    const compiled = await h.ctx.db.transaction().execute((trx) => insertRows(trx, 'activity_events', Array.from({ length: 300 }, (_, i) => event(i, '{}'))));
    expect(Number(compiled.insertId)).toBe(Number((await last()).seq));
    // An undefined value: built as usual, and still reported.
    const built = await insertRows(h.ctx.db, 'activity_events', [event(300, undefined), event(301, '{}')]);
    expect(Number(built.insertId)).toBe(Number((await last()).seq));
  });

  const replaceHash: OnConflict<'audit_chain_heads'> = {
    name: 'test-replace-hash',
    clause: (insert) => insert.onConflict((oc) => oc.column('chain').doUpdateSet((eb) => ({ last_hash: eb.ref('excluded.last_hash') }))),
  };
  const markAnchor: OnConflict<'audit_chain_heads'> = {
    name: 'test-mark-anchor',
    clause: (insert) => insert.onConflict((oc) => oc.column('chain').doUpdateSet({ anchor_hash: 'marked' })),
  };
  const heads = (prefix: string) =>
    h.ctx.db.selectFrom('audit_chain_heads').select(['chain', 'last_seq', 'last_hash', 'anchor_hash']).where('chain', 'like', `${prefix}%`).orderBy('chain').execute();

  it('fanOutRows applies its conflict clause to a few rows, also when the clause binds values of its own', async () => {
    const rows = (n: number, hash: string) => Array.from({ length: n }, (_, i) => ({ chain: `up-${i}`, last_seq: i, last_hash: `${hash}${i}`, anchor_hash: 'a' }));
    await fanOutRows(h.ctx.db, 'audit_chain_heads', rows(3, 'first'), 'chain', replaceHash);
    await fanOutRows(h.ctx.db, 'audit_chain_heads', rows(5, 'second'), 'chain', replaceHash);
    await fanOutRows(h.ctx.db, 'audit_chain_heads', rows(2, 'third'), 'chain', markAnchor);
    await fanOutRows(h.ctx.db, 'audit_chain_heads', rows(2, 'fourth'), 'chain', markAnchor); // the same shape again
    expect((await heads('up-')).map(({ chain, last_hash, anchor_hash }) => ({ chain, last_hash, anchor_hash }))).toEqual([
      { chain: 'up-0', last_hash: 'second0', anchor_hash: 'marked' },
      { chain: 'up-1', last_hash: 'second1', anchor_hash: 'marked' },
      { chain: 'up-2', last_hash: 'second2', anchor_hash: 'a' },
      { chain: 'up-3', last_hash: 'second3', anchor_hash: 'a' },
      { chain: 'up-4', last_hash: 'second4', anchor_hash: 'a' },
    ]);
  });

  it('fanOutRows writes groups of rows that differ in one column only, each row with its own values, and the odd ones besides', async () => {
    const id = (prefix: string, i: number) => `${prefix}${String(i).padStart(3, '0')}`;
    const group = (prefix: string, n: number, seq: number, hash: string, anchor: string) =>
      Array.from({ length: n }, (_, i) => ({ chain: id(prefix, i), last_seq: seq, last_hash: hash, anchor_hash: anchor }));
    // Two groups whose values would read the same if joined without their lengths; 1 and "1" and null kept apart.
    const rows = [
      ...group('fan-a', 40, 1, 'ab', 'sc'),
      ...group('fan-b', 40, 1, 'abs', 'c'),
      ...group('fan-c', 40, 2, '1', 'n'),
      { chain: 'fan-d', last_seq: 3, last_hash: 'odd', anchor_hash: 'one of a kind' },
      ...group('fan-e', 5, 4, 'few', 'a'),
    ];
    await h.ctx.db.transaction().execute((trx) => fanOutRows(trx, 'audit_chain_heads', rows, 'chain'));
    const stored = await heads('fan-');
    expect(stored.map((r) => ({ ...r, last_seq: Number(r.last_seq) }))).toEqual([...rows].sort((a, b) => a.chain.localeCompare(b.chain)));

    // Upserts fan out too: the clause replaces the stored values, and one that binds its own value still applies.
    await fanOutRows(h.ctx.db, 'audit_chain_heads', group('fan-a', 40, 9, 'replaced', 'sc'), 'chain', replaceHash);
    await fanOutRows(h.ctx.db, 'audit_chain_heads', group('fan-b', 40, 9, 'ignored', 'ignored'), 'chain', markAnchor);
    await fanOutRows(h.ctx.db, 'audit_chain_heads', group('fan-c', 40, 9, 'ignored', 'ignored'), 'chain', markAnchor);
    const after = await heads('fan-');
    expect(after.filter((r) => r.chain.startsWith('fan-a')).every((r) => r.last_hash === 'replaced' && Number(r.last_seq) === 1)).toBe(true);
    expect(after.filter((r) => /^fan-[bc]/.test(r.chain)).every((r) => r.anchor_hash === 'marked' && r.last_hash !== 'ignored')).toBe(true);
    expect(after).toHaveLength(rows.length);
  });
});

describe('batchSizes', () => {
  it('splits any count into batches of 256, then powers of two, largest first, adding up to the count', () => {
    for (let n = 0; n <= 3000; n++) {
      const sizes = batchSizes(n);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(n);
      expect(sizes.every((s, i) => [256, 128, 64, 32, 16, 8, 4, 2, 1].includes(s) && (i === 0 || s <= sizes[i - 1]))).toBe(true);
      expect(sizes.filter((s) => s < 256)).toEqual([...new Set(sizes.filter((s) => s < 256))]);
    }
  });
});
