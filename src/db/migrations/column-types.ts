import { sql, type Kysely } from 'kysely';
import { engineOf } from '../engine.ts';

/** The few places where the two engines need different DDL, so migrations stay one set. */
export function columnTypes(db: Kysely<any>) {
  const pg = engineOf(db) === 'postgres';
  return {
    timestamp: pg ? sql`timestamptz` : sql`text`,
    /** byte-wise ordering, so prefix searches are index range scans on both engines */
    foldedText: pg ? sql`text collate "C"` : sql`text`,
    serial: pg ? sql`bigserial` : sql`integer`,
    json: sql`text`,
  };
}
