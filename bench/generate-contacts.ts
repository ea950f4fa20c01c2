import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { openSqlite } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { newId } from '../src/ids.ts';
import { foldName } from '../src/contacts/normalize.ts';

const firstNames = ['Ada', 'Björn', 'Chloé', 'Dmitri', 'Émile', 'Farah', 'Grace', 'Hiro', 'Inès', 'José', 'Kofi', 'Léa', 'Mateo', 'Nia', 'Olga', 'Priya'];
const lastSyllables = ['ma', 'ri', 'to', 'sen', 'ber', 'lo', 'van', 'dal', 'kov', 'ez', 'son', 'mü', 'ller', 'gar', 'cia', 'no'];
export const programs = Array.from({ length: 50 }, (_, i) => `program-${i}`);

/** A deterministic pseudo-random stream, so every run measures the same data. */
export function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function lastNameOf(i: number): string {
  const r = rng(i * 7919);
  const parts = 2 + Math.floor(r() * 2);
  let name = '';
  for (let p = 0; p < parts; p++) name += lastSyllables[Math.floor(r() * lastSyllables.length)];
  return name[0].toUpperCase() + name.slice(1);
}

export const emailOf = (i: number) => `person${i}@example${i % 97}.org`;

export interface GeneratedDirectory {
  file: string;
  institutionId: string;
  attributeId: string;
  ownerUserId: string;
}

/**
 * Writes `count` contacts (with a "program" choice attribute on each) straight into a migrated
 * SQLite file, reusing the file when it already holds them. Raw inserts: this is set-up, not the
 * thing measured.
 */
/** The metadata of a data set cached in `file`, when it was generated for `count` contacts. */
export function cachedMeta<T extends { count: number }>(file: string, count: number): T | null {
  const metaFile = `${file}.json`;
  if (!fs.existsSync(file) || !fs.existsSync(metaFile)) return null;
  const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as T;
  return meta.count === count ? meta : null;
}

/**
 * A freshly migrated file opened raw for fast generation (no sync), holding the bench tenant: an
 * institution, its organization and a "program" choice attribute.
 */
export async function freshBenchDatabase(file: string) {
  fs.rmSync(file, { force: true });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const store = openSqlite(file);
  await migrateToLatest(store);
  await store.close();
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const now = '2026-01-01T00:00:00.000Z';
  const institutionId = newId();
  const organizationId = newId();
  const attributeId = newId();
  db.prepare(`insert into institutions (id, name, slug, settings, created_at) values (?, 'Bench University', 'bench', '{}', ?)`).run(institutionId, now);
  db.prepare(`insert into organizations (id, institution_id, name, tier, email_domains, created_at) values (?, ?, 'Career Services', 'enterprise', '[]', ?)`).run(organizationId, institutionId, now);
  db.prepare(`insert into attribute_definitions (id, institution_id, key, label, type, options, created_at) values (?, ?, 'program', 'Program', 'choice', ?, ?)`).run(attributeId, institutionId, JSON.stringify(programs), now);
  return { db, now, institutionId, organizationId, attributeId };
}

export async function generateDirectory(file: string, count: number, onProgress?: (done: number) => void): Promise<GeneratedDirectory> {
  const cached = cachedMeta<GeneratedDirectory & { count: number }>(file, count);
  if (cached) return { ...cached, file };
  const { db, now, institutionId, organizationId, attributeId } = await freshBenchDatabase(file);
  const ownerUserId = newId();
  db.prepare(`insert into users (id, institution_id, organization_id, email, name, password_hash, site_access, created_at, updated_at) values (?, ?, ?, 'owner@bench.example', 'Owner', 'x', 1, ?, ?)`).run(ownerUserId, institutionId, organizationId, now, now);

  const insertContact = db.prepare(`insert into contacts (id, institution_id, organization_id, first_name, last_name, first_name_folded, last_name_folded, email, email_normalized, visibility, owner_user_id, approval_status, source, opt_in_status, created_at, updated_at)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'approved', 'bulk_import', 'unknown', ?, ?)`);
  const insertValue = db.prepare(`insert into contact_attribute_values (contact_id, attribute_id, institution_id, value_text, value_number) values (?, ?, ?, ?, null)`);
  const start = Date.parse(now) - 5 * 365 * 86_400_000;
  const chunk = 20_000;
  for (let from = 0; from < count; from += chunk) {
    db.transaction(() => {
      for (let i = from; i < Math.min(count, from + chunk); i++) {
        const r = rng(i);
        const created = new Date(start + Math.floor(r() * 5 * 365 * 86_400_000));
        const id = newId(created.getTime());
        const first = firstNames[i % firstNames.length];
        const last = lastNameOf(i);
        const v = r();
        const visibility = v < 0.8 ? 'everyone' : v < 0.95 ? 'staff_only' : 'owner_only';
        insertContact.run(id, institutionId, organizationId, first, last, foldName(first), foldName(last), emailOf(i), emailOf(i), visibility, visibility === 'owner_only' ? ownerUserId : null, created.toISOString(), created.toISOString());
        insertValue.run(id, attributeId, institutionId, programs[i % programs.length]);
      }
    })();
    onProgress?.(Math.min(count, from + chunk));
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('analyze');
  db.close();
  const meta = { count, institutionId, attributeId, ownerUserId };
  fs.writeFileSync(`${file}.json`, JSON.stringify(meta));
  return { file, institutionId, attributeId, ownerUserId };
}
