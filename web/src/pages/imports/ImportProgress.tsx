import { useQuery } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { Badge, FormError, Loading } from '../../components.tsx';
import type { ImportView } from '../../types.ts';

const ACTIVE = ['uploading', 'pending', 'running'];

/** One import as it runs: a progress bar, then the summary and the error report (nothing is dropped silently). */
export function ImportProgress({ id }: { id: string }) {
  const imp = useQuery({
    queryKey: ['import', id],
    queryFn: () => api.get<ImportView>(`/api/imports/${id}`),
    refetchInterval: (q) => (!q.state.data || ACTIVE.includes(q.state.data.status) ? 500 : false),
  });
  if (imp.isPending) return <Loading />;
  if (imp.isError) return <FormError error={imp.error} />;
  const i = imp.data;
  const s = i.summary;
  const running = ACTIVE.includes(i.status);
  return (
    <div className="card" aria-labelledby="import-progress-title" data-testid="import-progress">
      <h2 id="import-progress-title">
        {i.fileName} <Badge value={i.status} />
      </h2>
      <div className="progress-wrap">
        <progress max={i.rows.total ?? undefined} value={i.rows.done} aria-label={`Rows imported from ${i.fileName}`} />{' '}
        <span role="status" aria-live="polite">
          {i.rows.done}
          {i.rows.total !== null ? ` of ${i.rows.total}` : ''} rows {running ? 'so far' : 'read'}
        </span>
      </div>
      {i.error && <p className="alert alert-error">{i.error}</p>}
      {!running && (
        <dl className="report" data-testid="import-summary">
          <dt>Created</dt>
          <dd>{s.created}</dd>
          <dt>Updated</dt>
          <dd>{s.updated}</dd>
          <dt>Skipped as duplicates</dt>
          <dd>{s.skippedDuplicate}</dd>
          <dt>Invalid rows</dt>
          <dd>{s.invalid}</dd>
          <dt>Suppressed (expunged before)</dt>
          <dd>{s.suppressed}</dd>
          <dt>Blank rows</dt>
          <dd>{s.blank}</dd>
        </dl>
      )}
      {!running && s.invalid > 0 && (
        <p>
          <a href={i.errorsUrl} download className="button-link">
            Download the error report
          </a>{' '}
          <span className="muted">(CSV: row, field, message for every row that was not imported)</span>
        </p>
      )}
      {i.mapping && (
        <details>
          <summary>Column mapping used</summary>
          <ul>
            {i.mapping.map((m) => (
              <li key={m.column}>
                {m.header} → {m.field ?? 'not imported'}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}
