import { DataTable } from '../../components.tsx';
import { Link } from '../../router.tsx';
import type { RetentionRun } from '../../types.ts';
import { Histogram } from './Histogram.tsx';
import { REASON_WORDS, formatDay } from './words.ts';

/** A run's report: counts per outcome, what an execution did, the histogram, per organization, and a sample (ids only). */
export function RunReport({ run }: { run: RetentionRun }) {
  const report = run.report!;
  const t = report.totals;
  const e = report.executed;
  const simulated = run.mode === 'simulation';
  return (
    <div className="run-report" data-testid="run-report">
      <dl className="report" data-testid="run-totals">
        <dt>Prospects {simulated ? 'to delete' : 'selected for deletion'}</dt>
        <dd>{t.prospectsToDelete.toLocaleString()}</dd>
        <dt>Customers {simulated ? 'to anonymise' : 'selected for anonymisation'}</dt>
        <dd>{t.customersToAnonymise.toLocaleString()}</dd>
        <dt>Beneficiary names {simulated ? 'to anonymise' : 'selected'}</dt>
        <dd>{t.beneficiaryNamesToAnonymise.toLocaleString()}</dd>
      </dl>
      {e && (
        <>
          <h3>What the execution did</h3>
          <dl className="report" data-testid="run-executed">
            <dt>Deleted</dt>
            <dd>{e.deleted.toLocaleString()}</dd>
            <dt>Anonymised</dt>
            <dd>{e.anonymised.toLocaleString()}</dd>
            <dt>Skipped (active again since the selection)</dt>
            <dd>{e.skippedActive.toLocaleString()}</dd>
            <dt>Beneficiary names anonymised</dt>
            <dd>{e.beneficiaryNamesAnonymised.toLocaleString()}</dd>
          </dl>
        </>
      )}
      <Histogram histogram={report.histogram} cutoff={run.cutoff} months={run.months} />
      <h3>Per organization</h3>
      {report.perOrganization.length === 0 ? (
        <p className="muted">No organization has inactive contacts.</p>
      ) : (
        <div className="table-scroll">
          <table className="table" aria-label="Inactive contacts per organization">
            <thead>
              <tr>
                <th scope="col">Organization</th>
                <th scope="col">Prospects {simulated ? 'to delete' : 'selected for deletion'}</th>
                <th scope="col">Customers {simulated ? 'to anonymise' : 'selected for anonymisation'}</th>
                <th scope="col">Total</th>
              </tr>
            </thead>
            <tbody>
              {report.perOrganization.map((o) => (
                <tr key={o.organizationId ?? 'none'}>
                  <th scope="row">{o.organizationName ?? 'No organization'}</th>
                  <td>{o.prospectsToDelete.toLocaleString()}</td>
                  <td>{o.customersToAnonymise.toLocaleString()}</td>
                  <td>{(o.prospectsToDelete + o.customersToAnonymise).toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">All organizations</th>
                <td>{t.prospectsToDelete.toLocaleString()}</td>
                <td>{t.customersToAnonymise.toLocaleString()}</td>
                <td>{(t.prospectsToDelete + t.customersToAnonymise).toLocaleString()}</td>
              </tr>
            </tfoot>
          </table>
        </div>
      )}
      {report.sample.length > 0 && (
        <details>
          <summary>Sample of the contacts in the set ({report.sample.length})</summary>
          <DataTable label="Sample of the contacts in the set" columns={['Contact', 'Outcome', 'Last activity', 'Counted from']} rows={report.sample}>
            {(s) => (
              <tr key={s.contactId}>
                <td>{simulated ? <Link to={`/contacts/${s.contactId}`}>Contact {s.contactId.slice(-8)}</Link> : `Contact ${s.contactId.slice(-8)}`}</td>
                <td>{s.outcome === 'delete' ? 'Delete (prospect)' : 'Anonymise (customer)'}</td>
                <td>{formatDay(s.recency)}</td>
                <td>{REASON_WORDS[s.reason] ?? s.reason}</td>
              </tr>
            )}
          </DataTable>
        </details>
      )}
      <p>
        <a href={`/api/retention/runs/${run.id}/report.csv`} download>
          Download the report (CSV)
        </a>{' '}
        <span className="muted">ids, counts and dates only; no names</span>
      </p>
    </div>
  );
}
