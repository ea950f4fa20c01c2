import { Fragment, useState } from 'react';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { DataTable, Empty, formatDate, FormError, Loading } from '../../components.tsx';
import { Link } from '../../router.tsx';
import type { WorkflowEnrollment, WorkflowEnrollmentState } from '../../types.ts';
import { STATE_WORDS } from './describe.ts';
import { nextWords, RunHistory } from './RunHistory.tsx';

const PAGE = 50;

/** A workflow's runs (enrollments), oldest first, a page at a time, each with its step history on demand. */
export function WorkflowRuns({ workflowId, live }: { workflowId: string; live: boolean }) {
  const [state, setState] = useState<WorkflowEnrollmentState | ''>('');
  const [open, setOpen] = useState<string | null>(null);
  const runs = useInfiniteQuery({
    queryKey: ['workflow-runs', workflowId, state],
    queryFn: ({ pageParam }) => api.get<{ items: WorkflowEnrollment[] }>(`/api/workflows/${workflowId}/enrollments`, { state: state || undefined, after: pageParam ?? undefined, limit: PAGE }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => (last.items.length === PAGE ? last.items[last.items.length - 1].id : null),
    refetchInterval: live ? 5000 : false,
  });
  const items = runs.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="card" aria-labelledby="workflow-runs-title">
      <div className="card-head">
        <h2 id="workflow-runs-title">Runs</h2>
        <label className="inline">
          State
          <select value={state} onChange={(e) => setState(e.target.value as WorkflowEnrollmentState | '')}>
            <option value="">All</option>
            {(Object.entries(STATE_WORDS) as [WorkflowEnrollmentState, string][]).map(([value, text]) => (
              <option key={value} value={value}>
                {text}
              </option>
            ))}
          </select>
        </label>
      </div>
      <FormError error={runs.error} />
      {runs.isPending ? (
        <Loading />
      ) : items.length === 0 ? (
        <Empty>{state ? 'No run in this state.' : 'No contact has been enrolled yet.'}</Empty>
      ) : (
        <DataTable label="Workflow runs" columns={['Contact', 'Version', 'State', 'Next step', 'Started', 'Ended', { hidden: 'History' }]} rows={items}>
          {(r) => (
            <Fragment key={r.id}>
              <tr data-run={r.id}>
                <td>{r.contactId ? <Link to={`/contacts/${r.contactId}`}>Contact {r.contactId.slice(-8)}</Link> : <span className="muted">Erased contact</span>}</td>
                <td>{r.version}</td>
                <td>
                  <span className={`badge badge-run-${r.state}`}>{STATE_WORDS[r.state]}</span>
                  {r.reason && <div className="muted">{r.reason}</div>}
                </td>
                <td>{nextWords(r)}</td>
                <td>{formatDate(r.createdAt)}</td>
                <td>{formatDate(r.finishedAt)}</td>
                <td>
                  <button type="button" className="link-button" aria-expanded={open === r.id} onClick={() => setOpen(open === r.id ? null : r.id)}>
                    {open === r.id ? 'Hide history' : 'History'}
                  </button>
                </td>
              </tr>
              {open === r.id && (
                <tr>
                  <td colSpan={7}>
                    <EnrollmentHistory id={r.id} />
                  </td>
                </tr>
              )}
            </Fragment>
          )}
        </DataTable>
      )}
      {runs.hasNextPage && (
        <button type="button" className="load-more" onClick={() => runs.fetchNextPage()} disabled={runs.isFetchingNextPage}>
          More runs
        </button>
      )}
    </div>
  );
}

function EnrollmentHistory({ id }: { id: string }) {
  const run = useQuery({ queryKey: ['workflow-enrollment', id], queryFn: () => api.get<WorkflowEnrollment>(`/api/workflow-enrollments/${id}`) });
  if (run.isPending) return <Loading />;
  if (run.isError) return <FormError error={run.error} />;
  return <RunHistory steps={run.data.steps ?? []} label="Step history" />;
}
