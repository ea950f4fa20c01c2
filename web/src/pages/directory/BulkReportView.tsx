import { Link } from '../../router.tsx';
import type { BulkReport } from '../../types.ts';

/** What a bulk job did: changed, already so, refused with the reasons, and a few refused contacts to look into. */
export function BulkReportView({ report }: { report: BulkReport }) {
  const reasons = Object.entries(report.reasons ?? {});
  return (
    <div data-testid="bulk-report">
      <h3>Report</h3>
      <dl className="report">
        <dt>Contacts in the set</dt>
        <dd>{report.total}</dd>
        <dt>Changed</dt>
        <dd>{report.changed}</dd>
        <dt>Already so (unchanged)</dt>
        <dd>{report.unchanged}</dd>
        <dt>Refused</dt>
        <dd>{report.refused}</dd>
      </dl>
      {reasons.length > 0 && (
        <>
          <h4>Why contacts were unchanged or refused</h4>
          <ul>
            {reasons.map(([why, n]) => (
              <li key={why}>
                {n} × {why}
              </li>
            ))}
          </ul>
        </>
      )}
      {report.refusedSample?.length > 0 && (
        <>
          <h4>Some refused contacts</h4>
          <ul>
            {report.refusedSample.map((r) => (
              <li key={r.id}>
                <Link to={`/contacts/${r.id}`}>Contact {r.id.slice(0, 8)}</Link> — {r.why}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
