import fs from 'node:fs';
import pg from 'pg';
import type { Harness } from './harness.ts';

/**
 * Scans for erased values at the storage level, used by every proof-of-erasure test (expunge,
 * delete, anonymisation): every byte of the SQLite file and its WAL (free pages and index pages
 * included); on PostgreSQL every heap/TOAST tuple, live or dead, and every btree index entry
 * (pageinspect), then whole raw pages after the scrub.
 */

function needles(values: string[]): Buffer[] {
  return [...new Set(values.flatMap((v) => [v, v.toLowerCase()]))].map((v) => Buffer.from(v, 'utf8'));
}

export function sqliteHits(h: Harness, values: string[]): string[] {
  const file = h.database.store.sqlitePath!;
  const hits: string[] = [];
  for (const path of [file, `${file}-wal`]) {
    if (!fs.existsSync(path)) continue;
    const bytes = fs.readFileSync(path);
    for (const n of needles(values)) if (bytes.indexOf(n) >= 0) hits.push(`${path.endsWith('-wal') ? 'WAL' : 'file'}: ${n.toString()}`);
  }
  return hits;
}

export async function pgClient(h: Harness): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: h.database.url });
  await client.connect();
  await client.query('create extension if not exists pageinspect');
  return client;
}

async function relations(client: pg.Client): Promise<{ name: string; kind: string; blocks: number }[]> {
  const { rows } = await client.query(`
    with app as (select c.oid, c.reltoastrelid from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r')
    select r.oid::regclass::text as name, r.relkind as kind, pg_relation_size(r.oid) / current_setting('block_size')::int as blocks
    from pg_class r
    where r.oid in (select oid from app)
       or r.oid in (select reltoastrelid from app where reltoastrelid <> 0)
       or r.oid in (select i.indexrelid from pg_index i where i.indrelid in (select oid from app union select reltoastrelid from app where reltoastrelid <> 0))`);
  return rows.map((r) => ({ name: r.name, kind: r.kind, blocks: Number(r.blocks) }));
}

export async function pgTupleHits(client: pg.Client, values: string[]): Promise<string[]> {
  const hits: string[] = [];
  const patterns = needles(values);
  for (const rel of await relations(client)) {
    for (let block = 0; block < rel.blocks; block++) {
      if (rel.kind === 'i') {
        if (block === 0) continue;
        const { rows } = await client.query(`select data from bt_page_items(get_raw_page($1, $2))`, [rel.name, block]);
        for (const r of rows) {
          const bytes = Buffer.from(String(r.data ?? '').replace(/ /g, ''), 'hex');
          for (const p of patterns) if (bytes.indexOf(p) >= 0) hits.push(`${rel.name} block ${block} index entry: ${p}`);
        }
      } else {
        const { rows } = await client.query(`select lp, t_xmax, t_data from heap_page_items(get_raw_page($1, $2))`, [rel.name, block]);
        for (const r of rows) {
          if (!r.t_data) continue;
          for (const p of patterns) if (Buffer.from(r.t_data).indexOf(p) >= 0) hits.push(`${rel.name} block ${block} tuple ${r.lp} (${r.t_xmax === '0' ? 'live' : 'dead'}): ${p}`);
        }
      }
    }
  }
  return hits;
}

export async function pgPageHits(client: pg.Client, values: string[]): Promise<string[]> {
  const hits: string[] = [];
  const patterns = needles(values);
  for (const rel of await relations(client)) {
    for (let block = 0; block < rel.blocks; block++) {
      const { rows } = await client.query(`select get_raw_page($1, $2) as page`, [rel.name, block]);
      for (const p of patterns) if ((rows[0].page as Buffer).indexOf(p) >= 0) hits.push(`${rel.name} block ${block} page bytes: ${p}`);
    }
  }
  return hits;
}
