import { useQuery } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { DataTable, Empty, formatDate, FormError, Loading } from '../../components.tsx';
import { Link } from '../../router.tsx';
import type { RetentionRun } from '../../types.ts';
import { MODE_WORDS, RUN_STATUS_BADGE, RUN_STATUS_WORDS, plural } from './words.ts';

/** Past runs of the batch, newest first, each with its counts and a link to its report. */
export function RunList({ current }: { current: string | null }) {
  const runs = useQuery({
    queryKey: ['retention-runs'],
    queryFn: () => api.get<{ items: RetentionRun[] }>('/api/retention/runs'),
    refetchInterval: (q) => (q.state.data?.items.some((r) => r.status === 'queued' || r.status === 'running') ? 2000 : false),
  });
  return (
    <div className="card" aria-labelledby="past-runs-title">
      <h2 id="past-runs-title">Past runs</h2>
      <FormError error={runs.error} />
      {runs.isPending ? (
        <Loading />
      ) : runs.data?.items.length === 0 ? (
        <Empty>The batch has not run yet.</Empty>
      ) : (
        <DataTable label="Past runs" columns={['Run', 'Status', 'Inactive since', 'Selected', 'Done', { hidden: 'Report' }]} rows={runs.data?.items ?? []}>
          {(r) => {
            const t = r.report?.totals;
            const e = r.report?.executed;
            return (
              <tr key={r.id} data-run={r.id} data-mode={r.mode} className={r.id === current ? 'selected-row' : undefined} aria-current={r.id === current ? 'true' : undefined}>
                <td>
                  {MODE_WORDS[r.mode]} · {plural(r.months, 'month')}
                  <div className="muted">{formatDate(r.createdAt)}</div>
                </td>
                <td>
                  <span className={`badge badge-${RUN_STATUS_BADGE[r.status]}`}>{RUN_STATUS_WORDS[r.status]}</span>
                </td>
                <td>{formatDate(r.cutoff)}</td>
                <td>{t ? `${plural(t.prospectsToDelete, 'prospect')} to delete, ${plural(t.customersToAnonymise, 'customer')} to anonymise` : '—'}</td>
                <td data-testid="run-done">
                  {e ? `Deleted ${e.deleted}, anonymised ${e.anonymised}, skipped ${e.skippedActive}` : r.mode === 'simulation' && r.status === 'succeeded' ? 'Nothing (simulation)' : '—'}
                </td>
                <td>{r.report ? <Link to={`/retention/runs/${r.id}`} aria-label={`Report of the ${MODE_WORDS[r.mode].toLowerCase()} of ${formatDate(r.createdAt)}`}>Report</Link> : null}</td>
              </tr>
            );
          }}
        </DataTable>
      )}
    </div>
  );
}
