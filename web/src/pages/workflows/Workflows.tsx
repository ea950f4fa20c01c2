import { useQuery } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { DataTable, Empty, formatDate, FormError, Loading } from '../../components.tsx';
import { Link } from '../../router.tsx';
import type { WorkflowEnrollmentState, WorkflowView } from '../../types.ts';
import { describeTrigger, runsTotal, STATE_WORDS } from './describe.ts';
import './workflows.css';

/** The institution's workflows (F5): what starts each, its version, whether it runs, and how many runs it has had. */
export function WorkflowsPage() {
  const list = useQuery({ queryKey: ['workflows'], queryFn: () => api.get<{ items: WorkflowView[] }>('/api/workflows') });
  return (
    <section>
      <div className="page-head">
        <h1>Workflows</h1>
        <div className="actions">
          <Link to="/workflows/new/opt_in_or_expunge" className="button-link button-primary">
            Start from the seed 000 template
          </Link>
          <Link to="/workflows/new/consent_renewal" className="button-link">
            Start from the consent-renewal template
          </Link>
          <Link to="/workflows/new" className="button-link">
            New workflow
          </Link>
        </div>
      </div>
      <p className="muted">
        The seed 000 template asks contacts added by a recruiter (by hand or by bulk import) to opt in, and expunges those who have not after 30 days. You review it before anything runs.
      </p>
      <FormError error={list.error} />
      {list.isPending ? (
        <Loading />
      ) : list.data?.items.length === 0 ? (
        <Empty>No workflows yet.</Empty>
      ) : (
        <DataTable label="Workflows" columns={['Name', 'Trigger', 'Version', 'Active', 'Runs', 'Last changed']} rows={list.data?.items ?? []}>
          {(w) => {
            const total = runsTotal(w.enrollments);
            const parts = (Object.entries(w.enrollments) as [WorkflowEnrollmentState, number][]).filter(([, n]) => n > 0);
            return (
              <tr key={w.id} data-workflow={w.id}>
                <td>
                  <Link to={`/workflows/${w.id}`}>{w.name}</Link>
                </td>
                <td>{describeTrigger(w.definition.trigger)}</td>
                <td>{w.version}</td>
                <td>{w.status === 'active' ? <span className="badge badge-succeeded">Active</span> : <span className="badge badge-held">Paused</span>}</td>
                <td>
                  {total}
                  {parts.length > 0 && <span className="muted"> ({parts.map(([s, n]) => `${n} ${STATE_WORDS[s].toLowerCase()}`).join(', ')})</span>}
                </td>
                <td>{formatDate(w.updatedAt)}</td>
              </tr>
            );
          }}
        </DataTable>
      )}
    </section>
  );
}
