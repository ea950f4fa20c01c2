import { sql } from 'kysely';
import type { Db } from '../context.ts';
import { effectiveRecency } from './recency-store.ts';

/**
 * Which contacts the inactive-contact batch touches, and how: every contact of the institution
 * (recency is institution-wide, so activity in any organization keeps a contact) whose recency is
 * before the cutoff and that is not already an anonymised stub. Those who bought or benefited
 * (on an order as purchase or cultural contact) are anonymised; the others, prospects, deleted.
 * Simulation and execution both fix their set with this one statement, which also notes each
 * contact's organization for the report. The organization is read by a look-up of the selected
 * contacts only: naming it in the scan would make the planner read every contact row instead of
 * walking the (institution, creation date, id) index.
 */
export async function snapshotInactive(trx: Db, runId: string, institutionId: string, cutoff: string): Promise<number> {
  const result = await sql`
    insert into retention_run_items (run_id, contact_id, outcome, done, organization_id)
    select ${runId}, c.id,
      case when exists (select 1 from ticket_order_contacts oc where oc.contact_id = c.id) then 'anonymise' else 'delete' end,
      null, (select o.organization_id from contacts o where o.id = c.id)
    from contacts c left join contact_recency r on r.contact_id = c.id
    where c.institution_id = ${institutionId}
      and ${effectiveRecency} < ${cutoff}
      and not exists (select 1 from anonymised_contacts a where a.stub_id = c.id)`.execute(trx);
  return Number(result.numAffectedRows ?? 0);
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

/**
 * Beneficiary names (on ticket lines) to anonymise among the orders of some contacts: lines whose
 * order has no contact left that is neither anonymised nor about to be, so a ticket keeps its
 * names while anyone on its order is still active. Driven from the given contacts' orders (never a
 * scan of all lines), so its cost follows the batch, not the store:
 * - `{ runId }`: the run's contacts to anonymise, counted for the simulation report before anything
 *   changed; those contacts count as anonymised already.
 * - `{ contactIds }`: a chunk just anonymised in the calling transaction (their stubs exist).
 */
export function beneficiaryLinesQuery(db: Db, institutionId: string, scope: { runId: string } | { contactIds: string[] }) {
  const runId = 'runId' in scope ? scope.runId : null;
  const runContactsToAnonymise = db.selectFrom('retention_run_items as i').select('i.contact_id').where('i.run_id', '=', runId ?? '').where('i.outcome', '=', 'anonymise');
  const contacts = 'runId' in scope ? runContactsToAnonymise : scope.contactIds;
  return db
    .selectFrom('ticket_order_lines as l')
    .select('l.id')
    .where('l.order_id', 'in', db.selectFrom('ticket_order_contacts as s').select('s.order_id').where('s.contact_id', 'in', contacts))
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
            .$if(runId !== null, (q) =>
              q.where((e) =>
                e.not(
                  e.exists(
                    e
                      .selectFrom('retention_run_items as r')
                      .select('r.contact_id')
                      .where('r.run_id', '=', runId ?? '')
                      .whereRef('r.contact_id', '=', 'oc.contact_id')
                      .where('r.outcome', '=', 'anonymise'),
                  ),
                ),
              ),
            ),
        ),
      ),
    );
}
