import { CompiledQuery, sql } from 'kysely';
import type { AppContext, Db } from '../context.ts';
import type { ApprovalStatus, Contact, ContactSource, Visibility } from '../db/schema.ts';
import type { DuplicateRule } from './rules/duplicate-rule.ts';
import { candidateLookups, existingProfileFromRow, isDuplicate, type Candidate } from './rules/match.ts';

/**
 * The store side of duplicate matching: the rule's look-ups (match.ts candidateLookups, at most
 * three equality look-ups on indexed contacts columns, each within the institution) fetch the only
 * profiles that can match, and the pure isDuplicate keeps those that do. The cost is a few index
 * probes whatever the store's size. Last name and last 6/4 of the SSN only narrow what the
 * identifier (or full SSN) found, so they are never looked up on their own and need no index.
 */

/** An existing contact the rule calls a duplicate, with what messages and merge decisions need. */
export interface DuplicateMatch {
  id: string;
  organizationId: string | null;
  firstName: string;
  lastName: string;
  firstNameFolded: string;
  lastNameFolded: string;
  email: string | null;
  emailNormalized: string | null;
  mobilePhone: string | null;
  mobileE164: string | null;
  /** whether any SSN hash is on the profile (the hashes themselves never leave the store layer) */
  hasSsn: boolean;
  visibility: Visibility;
  ownerUserId: string | null;
  source: ContactSource;
  approvalStatus: ApprovalStatus;
  createdAt: string;
  updatedAt: string;
  /** why the rule matched, naming data points, never values */
  reason: string;
}

export interface FindDuplicatesOptions {
  /** contacts to leave out (e.g. the contact being edited, or rows an import just wrote) */
  excludeIds?: readonly string[];
  /** also match contacts that are disabled (soft-deleted, src/lifecycle); by default they are not candidates */
  includeDisabled?: boolean;
}

const matchColumns = [
  'id',
  'organization_id',
  'first_name',
  'last_name',
  'first_name_folded',
  'last_name_folded',
  'email',
  'email_normalized',
  'mobile_phone',
  'mobile_e164',
  'ssn_hash_full',
  'ssn_hash_last6',
  'ssn_hash_last4',
  'visibility',
  'owner_user_id',
  'source',
  'approval_status',
  'created_at',
  'updated_at',
] as const;

type MatchRow = Pick<Contact, (typeof matchColumns)[number]>;
type Lookup = ReturnType<typeof candidateLookups>[number];

/**
 * One statement (one round trip on PostgreSQL) per shape of look-up: a UNION ALL of equality
 * probes on (institution_id, column), each answered from its index on both engines. It is built
 * with Kysely once per shape and engine and then reused, since a duplicate check runs on every
 * application and import row; parameters are (institution, value) per look-up, in order.
 */
const statements = new WeakMap<object, Map<string, string>>();

/** The statement for these look-ups (exported for the test that reads its query plan). */
export function lookupSql(db: Db, lookups: Lookup[], includeDisabled: boolean): string {
  const adapter = db.getExecutor().adapter;
  let byShape = statements.get(adapter);
  if (!byShape) statements.set(adapter, (byShape = new Map()));
  const shape = `${includeDisabled ? 'all' : 'enabled'}:${lookups.map((l) => l.column).join(',')}`;
  const cached = byShape.get(shape);
  if (cached) return cached;
  const branch = (column: Lookup['column']) => {
    const q = db.selectFrom('contacts').select(matchColumns).where('institution_id', '=', '?').where(column, '=', '?');
    // A disabled contact ("account deleted") is out of intake: one primary-key probe per candidate.
    return includeDisabled
      ? q
      : q.where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('disabled_contacts').select('disabled_contacts.contact_id').whereRef('disabled_contacts.contact_id', '=', 'contacts.id'))),
        );
  };
  let query = branch(lookups[0].column);
  for (const lookup of lookups.slice(1)) query = query.unionAll(branch(lookup.column));
  const compiled = query.compile();
  if (compiled.parameters.length !== lookups.length * 2) throw new Error('duplicate look-up statement: unexpected parameters');
  byShape.set(shape, compiled.sql);
  return compiled.sql;
}

/**
 * Every contact of the institution that `rule` calls a duplicate of `candidate` (normalised with
 * rules/candidate.ts), oldest first. Runs in the caller's transaction when given one.
 */
export async function findDuplicates(
  db: Db,
  institutionId: string,
  rule: DuplicateRule,
  candidate: Candidate,
  opts: FindDuplicatesOptions = {},
): Promise<DuplicateMatch[]> {
  const lookups = candidateLookups(rule, candidate);
  if (lookups.length === 0) return [];
  const parameters = lookups.flatMap((l) => [institutionId, l.value]);
  const rows = (await db.executeQuery<MatchRow>(CompiledQuery.raw(lookupSql(db, lookups, opts.includeDisabled ?? false), parameters))).rows;

  const exclude = new Set(opts.excludeIds ?? []);
  const seen = new Set<string>();
  const matches: DuplicateMatch[] = [];
  for (const row of rows) {
    if (seen.has(row.id) || exclude.has(row.id)) continue;
    seen.add(row.id);
    const result = isDuplicate(rule, candidate, existingProfileFromRow(row));
    if (!result.duplicate) continue;
    matches.push({
      id: row.id,
      organizationId: row.organization_id,
      firstName: row.first_name,
      lastName: row.last_name,
      firstNameFolded: row.first_name_folded,
      lastNameFolded: row.last_name_folded,
      email: row.email,
      emailNormalized: row.email_normalized,
      mobilePhone: row.mobile_phone,
      mobileE164: row.mobile_e164,
      hasSsn: row.ssn_hash_full !== null || row.ssn_hash_last6 !== null || row.ssn_hash_last4 !== null,
      visibility: row.visibility,
      ownerUserId: row.owner_user_id,
      source: row.source,
      approvalStatus: row.approval_status,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      reason: result.reason,
    });
  }
  // Ids are minted from created_at, so id order is creation order: the first is the original profile.
  return matches.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Makes "check for duplicates, then create" atomic for writers of the same identifiers: on
 * PostgreSQL a transaction-scoped advisory lock per looked-up value (in a fixed order, so two
 * writers never deadlock), taken before findDuplicates in the same transaction. SQLite runs one
 * writing transaction at a time, which already serialises them.
 */
export async function lockDuplicateKeys(ctx: Pick<AppContext, 'store'>, trx: Db, institutionId: string, rule: DuplicateRule, candidate: Candidate): Promise<void> {
  if (ctx.store.kind !== 'postgres') return;
  const keys = candidateLookups(rule, candidate)
    .map((l) => `dup:${institutionId}:${l.column}:${l.value}`)
    .sort();
  for (const key of keys) await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
}
