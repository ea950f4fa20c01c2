import { sql } from 'kysely';
import type { Db } from '../context.ts';
import { effectiveRecency } from './recency-store.ts';

/**
 * Which contacts the inactive-contact batch touches, and how: every contact of the institution
 * (recency is institution-wide, so activity in any organization keeps a contact) whose recency is
 * before the cutoff and that is not already an anonymised stub. Those who bought or benefited
 * (on an order as purchase or cultural contact) are anonymised; the others, prospects, deleted.
 * Simulation and execution both fix their set with this one statement, which also notes each
 * contact's organization for the report. Every contact column it names is in the (institution,
 * creation date, id, …, organization) index (migration 0011), so SQLite walks that index and reads
 * no contact row. Stubs are left out by an outer join rather than `not exists`, so that only the
 * contacts past the recency test are looked up in anonymised_contacts.
 */
export async function snapshotInactive(trx: Db, runId: string, institutionId: string, cutoff: string): Promise<number> {
  const result = await snapshotStatement(runId, institutionId, cutoff).execute(trx);
  return Number(result.numAffectedRows ?? 0);
}

/** The snapshot's statement (exported for the test that holds SQLite to its plan). */
export function snapshotStatement(runId: string, institutionId: string, cutoff: string) {
  return sql`
    insert into retention_run_items (run_id, contact_id, outcome, done, organization_id)
    select ${runId}, c.id,
      case when exists (select 1 from ticket_order_contacts oc where oc.contact_id = c.id) then 'anonymise' else 'delete' end,
      null, c.organization_id
    from contacts c
      left join contact_recency r on r.contact_id = c.id
      left join anonymised_contacts a on a.stub_id = c.id
    where c.institution_id = ${institutionId}
      and ${effectiveRecency} < ${cutoff}
      and a.stub_id is null`;
}

export interface CurrentState {
  contactId: string;
  active: boolean;
  customer: boolean;
  anonymised: boolean;
  exists: boolean;
}

/**
 * The state of a chunk's contacts at the moment it is executed: a contact who became active since
 * the snapshot (clicked the renewal link, bought a ticket) is skipped, one who bought since is
 * anonymised rather than deleted.
 */
export async function currentStates(trx: Db, institutionId: string, ids: string[], cutoff: string): Promise<Map<string, CurrentState>> {
  const rows = ids.length
    ? await trx
        .selectFrom('contacts as c')
        .leftJoin('contact_recency as r', 'r.contact_id', 'c.id')
        .select((eb) => [
          'c.id',
          effectiveRecency.as('recency'),
          eb.exists(eb.selectFrom('ticket_order_contacts as oc').select('oc.contact_id').whereRef('oc.contact_id', '=', 'c.id')).as('customer'),
          eb.exists(eb.selectFrom('anonymised_contacts as a').select('a.stub_id').whereRef('a.stub_id', '=', 'c.id')).as('anonymised'),
        ])
        .where('c.institution_id', '=', institutionId)
        .where('c.id', 'in', ids)
        .execute()
    : [];
  const found = new Map(rows.map((r) => [r.id, r]));
  return new Map(
    ids.map((id) => {
      const r = found.get(id);
      return [
        id,
        {
          contactId: id,
          exists: !!r,
          active: r ? Date.parse(new Date(r.recency).toISOString()) >= Date.parse(cutoff) : false,
          customer: r ? Boolean(Number(r.customer)) : false,
          anonymised: r ? Boolean(Number(r.anonymised)) : false,
        },
      ];
    }),
  );
}

/** Whether the run anonymises the contact at `contactRef` (an order contact of the enclosing query). */
const anonymisedByRun = (runId: string, contactRef: string) =>
  sql<boolean>`exists (select 1 from retention_run_items i where i.run_id = ${runId} and i.contact_id = ${sql.ref(contactRef)} and i.outcome = 'anonymise')`;

/**
 * Beneficiary names (on ticket lines) to anonymise among the orders of some contacts: lines whose
 * order has no contact left that is neither anonymised nor about to be, so a ticket keeps its
 * names while anyone on its order is still active.
 * - `{ runId }`: the run's contacts to anonymise, counted for the simulation report before anything
 *   changed; those contacts count as anonymised already.
 * - `{ contactIds }`: a chunk just anonymised in the calling transaction (their stubs exist).
 * The look-up starts from the contacts' orders, so its cost follows the batch (never a scan of all
 * lines). A run may start from the other side instead (`drivenBy: 'lines'`, same lines): the
 * institution's lines still carrying names, each checked against the run's contacts by key, which
 * is cheaper when the run has more orders than there are such lines (see atMostPendingBeneficiaryLines).
 */
export function beneficiaryLinesQuery(db: Db, institutionId: string, scope: { runId: string; drivenBy?: 'contacts' | 'lines' } | { contactIds: string[] }) {
  const runId = 'runId' in scope ? scope.runId : null;
  const drivenByLines = 'runId' in scope && scope.drivenBy === 'lines';
  const runContactsToAnonymise = db.selectFrom('retention_run_items as i').select('i.contact_id').where('i.run_id', '=', runId ?? '').where('i.outcome', '=', 'anonymise');
  const contacts = 'runId' in scope ? runContactsToAnonymise : scope.contactIds;
  return db
    .selectFrom('ticket_order_lines as l')
    .select('l.id')
    .$if(!drivenByLines, (q) => q.where('l.order_id', 'in', db.selectFrom('ticket_order_contacts as s').select('s.order_id').where('s.contact_id', 'in', contacts)))
    .$if(drivenByLines, (q) =>
      q.where((eb) =>
        eb.exists(
          eb
            .selectFrom('ticket_order_contacts as s')
            .select('s.contact_id')
            .whereRef('s.order_id', '=', 'l.order_id')
            // A correlated look-up of each order contact in the run, not `in (run's contacts)`: SQLite
            // would walk that whole list for every line.
            .where(anonymisedByRun(runId ?? '', 's.contact_id')),
        ),
      ),
    )
    .where('l.institution_id', '=', institutionId)
    .where('l.beneficiary_last_name', 'is not', null)
    .where('l.beneficiary_anonymised_at', 'is', null)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('ticket_order_contacts as oc')
            .select('oc.contact_id')
            .whereRef('oc.order_id', '=', 'l.order_id')
            .where((e) => e.not(e.exists(e.selectFrom('anonymised_contacts as a').select('a.stub_id').whereRef('a.stub_id', '=', 'oc.contact_id'))))
            .$if(runId !== null, (q) => q.where((e) => e.not(anonymisedByRun(runId ?? '', 'oc.contact_id')))),
        ),
      ),
    );
}

/**
 * Whether the institution has at most `most` lines still carrying beneficiary names (the walk of
 * beneficiaryLinesQuery driven by lines). Counting stops past `most`, so asking costs no more than
 * the walk it decides on.
 */
export async function atMostPendingBeneficiaryLines(db: Db, institutionId: string, most: number): Promise<boolean> {
  const pending = db
    .selectFrom('ticket_order_lines')
    .select('id')
    .where('institution_id', '=', institutionId)
    .where('beneficiary_last_name', 'is not', null)
    .where('beneficiary_anonymised_at', 'is', null)
    .limit(most + 1);
  const row = await db
    .selectFrom(pending.as('p'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n) <= most;
}
