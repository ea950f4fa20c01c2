import { useQuery } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { Empty, FormError, Loading, formatDate } from '../../components.tsx';
import { Link } from '../../router.tsx';
import { useCan } from '../../session.ts';
import type { WorkflowEnrollment } from '../../types.ts';
import { STATE_WORDS } from '../workflows/describe.ts';
import { nextWords, RunHistory } from '../workflows/RunHistory.tsx';
import '../workflows/workflows.css';

/** The contact's workflow runs (F5: "each contact's runs are visible"), newest first, each with its step history. */
export function ContactWorkflowRuns({ contactId }: { contactId: string }) {
  const canManage = useCan('workflows.manage');
  const runs = useQuery({
    queryKey: ['contact-workflow-runs', contactId],
    queryFn: () => api.get<{ items: WorkflowEnrollment[] }>(`/api/contacts/${contactId}/workflow-runs`),
    refetchInterval: (q) => (q.state.data?.items.some((r) => r.state === 'active' && r.nextRunAt && Date.parse(r.nextRunAt) <= Date.now() + 60_000) ? 3000 : false),
  });
  return (
    <div className="card" aria-labelledby="contact-runs-title" data-testid="contact-workflow-runs">
      <h2 id="contact-runs-title">Workflow runs</h2>
      {runs.isPending ? (
        <Loading />
      ) : runs.isError ? (
        <FormError error={runs.error} />
      ) : runs.data.items.length === 0 ? (
        <Empty>This contact has not been enrolled in any workflow.</Empty>
      ) : (
        <ul className="run-list">
          {runs.data.items.map((r) => (
            <li key={r.id} data-run={r.id}>
              <h3>
                {canManage ? <Link to={`/workflows/${r.workflowId}`}>{r.workflowName}</Link> : r.workflowName}
                <span className="muted">version {r.version}</span>
                <span className={`badge badge-run-${r.state}`}>{STATE_WORDS[r.state]}</span>
              </h3>
              <dl className="facts">
                <dt>Started</dt>
                <dd>{formatDate(r.createdAt)}</dd>
                {(r.state === 'active' || r.state === 'paused') && (
                  <>
                    <dt>Next step</dt>
                    <dd>{nextWords(r)}</dd>
                  </>
                )}
                {r.finishedAt && (
                  <>
                    <dt>Ended</dt>
                    <dd>{formatDate(r.finishedAt)}</dd>
                  </>
                )}
                {r.reason && (
                  <>
                    <dt>Why</dt>
                    <dd>{r.reason}</dd>
                  </>
                )}
              </dl>
              <details>
                <summary>Step history ({r.steps?.length ?? 0})</summary>
                <RunHistory steps={r.steps ?? []} label={`Step history of ${r.workflowName}`} />
              </details>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
