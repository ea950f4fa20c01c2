import { z } from 'zod';
import type { Db } from '../context.ts';
import { recencyReasons } from './recency-rules.ts';
import { effectiveRecency } from './recency-store.ts';
import { atMostPendingBeneficiaryLines, beneficiaryLinesQuery } from './inactive-selection.ts';
import { recencyHistogram } from './recency-histogram.ts';

/** What a run of the batch found (and, executed, did): ids, counts and dates only, never names. */
export const inactiveReport = z.object({
  totals: z.object({
    prospectsToDelete: z.number(),
    customersToAnonymise: z.number(),
    beneficiaryNamesToAnonymise: z.number(),
  }),
  perOrganization: z.array(
    z.object({ organizationId: z.string().nullable(), organizationName: z.string().nullable(), prospectsToDelete: z.number(), customersToAnonymise: z.number() }),
  ),
  histogram: z.array(z.object({ month: z.string().describe('YYYY-MM of the last activity (recency)'), contacts: z.number() })).describe("every contact of the institution not yet anonymised, by its recency's month"),
  sample: z.array(z.object({ contactId: z.string(), outcome: z.enum(['delete', 'anonymise']), recency: z.string(), reason: z.enum(recencyReasons), organizationId: z.string().nullable() })),
  executed: z
    .object({ deleted: z.number(), anonymised: z.number(), skippedActive: z.number(), beneficiaryNamesAnonymised: z.number() })
    .nullable()
    .describe('null for a simulation'),
});
export type InactiveReport = z.infer<typeof inactiveReport>;

const SAMPLE_SIZE = 20;

/** The report of a run's snapshot (retention_run_items), read before anything is changed. */
export async function buildReport(db: Db, runId: string, institutionId: string): Promise<InactiveReport> {
  // Counted from the snapshot alone (it holds each contact's organization), then named.
  const perOrg = await db
    .selectFrom(
      db
        .selectFrom('retention_run_items')
        .select((eb) => ['organization_id', 'outcome', eb.fn.countAll<number>().as('n')])
        .where('run_id', '=', runId)
        .groupBy(['organization_id', 'outcome'])
        .as('i'),
    )
    .leftJoin('organizations as o', 'o.id', 'i.organization_id')
    .select(['i.organization_id', 'o.name', 'i.outcome', 'i.n'])
    .execute();
  const byOrg = new Map<string, InactiveReport['perOrganization'][number]>();
  for (const r of perOrg) {
    const key = r.organization_id ?? '';
    const entry = byOrg.get(key) ?? { organizationId: r.organization_id, organizationName: r.name, prospectsToDelete: 0, customersToAnonymise: 0 };
    if (r.outcome === 'delete') entry.prospectsToDelete += Number(r.n);
    else entry.customersToAnonymise += Number(r.n);
    byOrg.set(key, entry);
  }
  const perOrganization = [...byOrg.values()].sort((a, b) => (a.organizationName ?? '').localeCompare(b.organizationName ?? ''));

  const histogram = await recencyHistogram(db, institutionId);

  const sampleRows = await db
    .selectFrom('retention_run_items as i')
    .innerJoin('contacts as c', 'c.id', 'i.contact_id')
    .leftJoin('contact_recency as r', 'r.contact_id', 'c.id')
    .select(['i.contact_id', 'i.outcome', 'c.organization_id', effectiveRecency.as('recency'), 'r.reason'])
    .where('i.run_id', '=', runId)
    .orderBy('i.contact_id')
    .limit(SAMPLE_SIZE)
    .execute();

  // Each customer to anonymise has at least one order: with fewer lines still named than that,
  // walking those lines is the shorter way to the same count.
  const totals = {
    prospectsToDelete: perOrganization.reduce((s, o) => s + o.prospectsToDelete, 0),
    customersToAnonymise: perOrganization.reduce((s, o) => s + o.customersToAnonymise, 0),
  };
  const drivenBy = totals.customersToAnonymise > 0 && (await atMostPendingBeneficiaryLines(db, institutionId, totals.customersToAnonymise)) ? 'lines' : 'contacts';
  const beneficiaries = await db
    .selectFrom(beneficiaryLinesQuery(db, institutionId, { runId, drivenBy }).as('b'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();

  return {
    totals: { ...totals, beneficiaryNamesToAnonymise: Number(beneficiaries.n) },
    perOrganization,
    histogram,
    sample: sampleRows.map((r) => ({
      contactId: r.contact_id,
      outcome: r.outcome,
      recency: new Date(r.recency).toISOString(),
      reason: (r.reason ?? 'created') as InactiveReport['sample'][number]['reason'],
      organizationId: r.organization_id,
    })),
    executed: null,
  };
}

/** The report as CSV: one section per table, so a spreadsheet opens it as is. */
export function reportCsv(run: { id: string; mode: string; months: number; cutoff: string; asOf: string }, report: InactiveReport): string {
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const line = (...cells: unknown[]) => cells.map(cell).join(',');
  const out = [
    line('run', run.id),
    line('mode', run.mode),
    line('inactivity_months', run.months),
    line('as_of', run.asOf),
    line('cutoff', run.cutoff),
    '',
    line('outcome', 'contacts'),
    line('prospects_to_delete', report.totals.prospectsToDelete),
    line('customers_to_anonymise', report.totals.customersToAnonymise),
    line('beneficiary_names_to_anonymise', report.totals.beneficiaryNamesToAnonymise),
    ...(report.executed
      ? [
          line('deleted', report.executed.deleted),
          line('anonymised', report.executed.anonymised),
          line('skipped_active', report.executed.skippedActive),
          line('beneficiary_names_anonymised', report.executed.beneficiaryNamesAnonymised),
        ]
      : []),
    '',
    line('organization_id', 'organization', 'prospects_to_delete', 'customers_to_anonymise'),
    ...report.perOrganization.map((o) => line(o.organizationId, o.organizationName, o.prospectsToDelete, o.customersToAnonymise)),
    '',
    line('last_activity_month', 'contacts'),
    ...report.histogram.map((b) => line(b.month, b.contacts)),
    '',
    line('sample_contact_id', 'outcome', 'recency', 'reason', 'organization_id'),
    ...report.sample.map((s) => line(s.contactId, s.outcome, s.recency, s.reason, s.organizationId)),
  ];
  return out.join('\r\n') + '\r\n';
}
