import fs from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, type Harness } from '../../test/support/harness.ts';
import { startSmtpSink } from '../../test/support/smtp.ts';
import { startLetheWorker } from '../jobs/registry.ts';
import { smtpTransport } from '../mail/transport.ts';
import { nextScrubAt } from './storage.ts';
import { richContact } from './test-fixtures.ts';

let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
beforeAll(async () => {
  smtp = await startSmtpSink();
});
afterAll(() => smtp.close());

/** The values as bytes, in each spelling they may be stored in (as typed, folded to lower case). */
function needles(values: string[]): Buffer[] {
  return [...new Set(values.flatMap((v) => [v, v.toLowerCase()]))].map((v) => Buffer.from(v, 'utf8'));
}

/** SQLite: every byte of the database file and its WAL, free pages and index pages included. */
function sqliteHits(h: Harness, values: string[]): string[] {
  const file = h.database.store.sqlitePath!;
  const hits: string[] = [];
  for (const path of [file, `${file}-wal`]) {
    if (!fs.existsSync(path)) continue;
    const bytes = fs.readFileSync(path);
    for (const n of needles(values)) if (bytes.indexOf(n) >= 0) hits.push(`${path.endsWith('-wal') ? 'WAL' : 'file'}: ${n.toString()}`);
  }
  return hits;
}

async function pgClient(h: Harness): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: h.database.url });
  await client.connect();
  await client.query('create extension if not exists pageinspect');
  return client;
}

/** Every heap, TOAST and index relation of the application's tables. */
async function pgRelations(client: pg.Client): Promise<{ name: string; kind: string; blocks: number }[]> {
  const { rows } = await client.query(`
    with app as (select c.oid, c.reltoastrelid from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r')
    select r.oid::regclass::text as name, r.relkind as kind, pg_relation_size(r.oid) / current_setting('block_size')::int as blocks
    from pg_class r
    where r.oid in (select oid from app)
       or r.oid in (select reltoastrelid from app where reltoastrelid <> 0)
       or r.oid in (select i.indexrelid from pg_index i where i.indrelid in (select oid from app union select reltoastrelid from app where reltoastrelid <> 0))`);
  return rows.map((r) => ({ name: r.name, kind: r.kind, blocks: Number(r.blocks) }));
}

/**
 * PostgreSQL, tuple by tuple: every line pointer of every heap and TOAST page (live and dead
 * tuples alike, as heap_page_items shows them) and every btree index entry.
 */
async function pgTupleHits(client: pg.Client, values: string[]): Promise<string[]> {
  const hits: string[] = [];
  const patterns = needles(values);
  for (const rel of await pgRelations(client)) {
    for (let block = 0; block < rel.blocks; block++) {
      if (rel.kind === 'i') {
        if (block === 0) continue; // btree metapage
        const { rows } = await client.query(`select data from bt_page_items(get_raw_page($1, $2))`, [rel.name, block]);
        for (const r of rows) {
          const bytes = Buffer.from(String(r.data ?? '').replace(/ /g, ''), 'hex');
          for (const p of patterns) if (bytes.indexOf(p) >= 0) hits.push(`${rel.name} block ${block} index entry: ${p}`);
        }
      } else {
        const { rows } = await client.query(`select lp, lp_flags, t_xmax, t_data from heap_page_items(get_raw_page($1, $2))`, [rel.name, block]);
        for (const r of rows) {
          if (!r.t_data) continue;
          for (const p of patterns) if (Buffer.from(r.t_data).indexOf(p) >= 0) hits.push(`${rel.name} block ${block} tuple ${r.lp} (${r.t_xmax === '0' ? 'live' : 'dead'}): ${p}`);
        }
      }
    }
  }
  return hits;
}

/** PostgreSQL, byte by byte: whole raw pages, free space between tuples included. */
async function pgPageHits(client: pg.Client, values: string[]): Promise<string[]> {
  const hits: string[] = [];
  const patterns = needles(values);
  for (const rel of await pgRelations(client)) {
    for (let block = 0; block < rel.blocks; block++) {
      const { rows } = await client.query(`select get_raw_page($1, $2) as page`, [rel.name, block]);
      for (const p of patterns) if ((rows[0].page as Buffer).indexOf(p) >= 0) hits.push(`${rel.name} block ${block} page bytes: ${p}`);
    }
  }
  return hits;
}

async function drainWorker(h: Harness): Promise<void> {
  const transport = smtpTransport(smtp.url);
  const worker = startLetheWorker(h.ctx, { transport, pollMs: 60_000 });
  try {
    await worker.drain();
  } finally {
    await worker.stop();
  }
}

describeEachEngine('proof of erasure: expunged values are nowhere in the storage', (h) => {
  it('finds none of an expunged contact’s values in the database files, WAL, dead tuples or free space, while another contact’s stay', async () => {
    const t = await h.tenant();
    const marker = `Qzx${Date.now().toString(36)}`;
    const keep = await richContact(h, t, `${marker}Keep`);
    const gone = await richContact(h, t, `${marker}Gone`);
    const bulk = await richContact(h, t, `${marker}Bulk`);
    const self = await richContact(h, t, `${marker}Self`);
    const goneValues = [...gone.values, ...bulk.values, ...self.values];

    // The test can fail: before erasure the values are in the storage.
    if (h.kind === 'sqlite') {
      await h.ctx.store.compact();
      expect(sqliteHits(h, goneValues).length).toBeGreaterThan(0);
    } else {
      const client = await pgClient(h);
      try {
        expect((await pgTupleHits(client, goneValues)).length).toBeGreaterThan(0);
      } finally {
        await client.end();
      }
    }

    // Three ways in: a staff expunge, a bulk expunge job, and the contact's own Delete Account.
    const sent = smtp.received.length;
    const res = await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${gone.id}/expunge`, payload: { reason: 'contact_request' } });
    expect(res.statusCode, res.body).toBe(200);
    const job = await h.request(t.admin.token, { method: 'POST', url: '/api/contacts/bulk', payload: { filter: { ids: [bulk.id] }, action: { action: 'expunge', reason: 'retention' } } });
    expect(job.statusCode, job.body).toBe(202);
    await h.request(t.admin.token, { method: 'PATCH', url: '/api/lifecycle/settings', payload: { selfServiceDelete: 'expunge' } });
    const slug = (await h.ctx.db.selectFrom('institutions').select('slug').where('id', '=', t.institutionId).executeTakeFirstOrThrow()).slug;
    const profile = `/api/public/institutions/${slug}/profile`;
    const asked = smtp.received.length;
    await h.request(null, { method: 'POST', url: `${profile}/code`, payload: { email: self.email } });
    await drainWorker(h);
    const code = /\b(\d{6})\b/.exec(smtp.received.slice(asked).find((m) => m.to.includes(self.email) && m.subject.startsWith('Your code'))!.text)![1];
    const session = await h.request(null, { method: 'POST', url: `${profile}/session`, payload: { email: self.email, code } });
    const deleted = await h.request(null, { method: 'DELETE', url: profile, headers: { 'x-lethe-contact-session': session.json().token } });
    expect(deleted.json()).toEqual({ outcome: 'expunged', confirmationEmail: true });
    // The confirmation goes out before the last copy of the address is destroyed.
    await drainWorker(h);
    for (const c of [gone, bulk, self]) {
      expect(smtp.received.slice(sent).filter((m) => m.to.includes(c.email) && m.subject === 'Your data has been erased'), c.email).toHaveLength(1);
    }

    if (h.kind === 'sqlite') {
      expect(sqliteHits(h, goneValues)).toEqual([]);
      expect(sqliteHits(h, keep.values).length).toBeGreaterThan(0);
    } else {
      const client = await pgClient(h);
      try {
        // The VACUUM erasure runs leaves no tuple, live or dead, and no index entry holding a value…
        expect(await pgTupleHits(client, goneValues)).toEqual([]);
        // …and the scrub (at the next quiet hour) rewrites the pages, so not even free space keeps one.
        h.clock.set(nextScrubAt(h.clock.now()));
        await drainWorker(h);
        expect(await pgPageHits(client, goneValues)).toEqual([]);
        expect((await pgTupleHits(client, keep.values)).length).toBeGreaterThan(0);
      } finally {
        await client.end();
      }
    }
    expect(h.logLines.join('\n')).not.toContain(marker);
  });
});
