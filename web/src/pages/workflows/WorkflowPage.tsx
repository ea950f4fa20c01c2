import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError } from '../../api.ts';
import { ConfirmDialog, FormError, Loading, formatDate } from '../../components.tsx';
import { Link } from '../../router.tsx';
import type { WorkflowEnrollmentState, WorkflowView } from '../../types.ts';
import { describeTrigger, runsTotal, STATE_WORDS } from './describe.ts';
import { takeCreated } from './created.ts';
import { WorkflowEditor } from './WorkflowEditor.tsx';
import { WorkflowRuns } from './WorkflowRuns.tsx';
import './workflows.css';

/** One workflow: its state, pause/resume, the editor (a save is a new version) and its runs. */
export function WorkflowPage({ id }: { id: string }) {
  const queryClient = useQueryClient();
  const [created] = useState(() => takeCreated(id));
  const workflow = useQuery({ queryKey: ['workflow', id], queryFn: () => api.get<WorkflowView>(`/api/workflows/${encodeURIComponent(id)}`) });
  const [pausing, setPausing] = useState(false);
  const status = useMutation({
    mutationFn: (action: 'pause' | 'resume') => api.post<WorkflowView>(`/api/workflows/${id}/${action}`),
    onSuccess: (view) => {
      queryClient.setQueryData(['workflow', id], view);
      queryClient.invalidateQueries({ queryKey: ['workflows'] });
      queryClient.invalidateQueries({ queryKey: ['workflow-runs', id] });
      setPausing(false);
    },
  });
  if (workflow.isPending) return <Loading />;
  if (workflow.isError)
    return (
      <section>
        <p className="alert alert-error" role="alert">
          {workflow.error instanceof ApiError && workflow.error.status === 404 ? 'This workflow does not exist.' : workflow.error.message}
        </p>
        <Link to="/workflows">Back to workflows</Link>
      </section>
    );
  const w = workflow.data;
  const counts = (Object.entries(w.enrollments) as [WorkflowEnrollmentState, number][]).filter(([, n]) => n > 0);
  const running = (w.enrollments.active ?? 0) + (w.enrollments.paused ?? 0);
  return (
    <section>
      <p>
        <Link to="/workflows">← Workflows</Link>
      </p>
      <div className="page-head">
        <h1>{w.name}</h1>
        <div className="actions">
          <span className={`badge ${w.status === 'active' ? 'badge-succeeded' : 'badge-held'}`} data-testid="workflow-status">
            {w.status === 'active' ? 'Active' : 'Paused'}
          </span>
          <span data-testid="workflow-version">Version {w.version}</span>
          {w.status === 'active' ? (
            <button type="button" onClick={() => (status.reset(), setPausing(true))}>
              Pause
            </button>
          ) : (
            <button type="button" className="primary" disabled={status.isPending} onClick={() => status.mutate('resume')}>
              Resume
            </button>
          )}
        </div>
      </div>
      {created && (
        <p className="alert alert-success" role="status">
          Created as version 1, and active: from now on it enrolls contacts on “{describeTrigger(w.definition.trigger)}”.
        </p>
      )}
      <FormError error={pausing ? null : status.error} />
      <p className="muted">
        {runsTotal(w.enrollments)} runs{counts.length > 0 ? `: ${counts.map(([s, n]) => `${n} ${STATE_WORDS[s].toLowerCase()}`).join(', ')}` : ''} · last changed {formatDate(w.updatedAt)}
      </p>
      <WorkflowEditor key={w.id} initial={w.definition} workflow={w} />
      <WorkflowRuns workflowId={w.id} live={w.status === 'active' && running > 0} />
      <ConfirmDialog
        open={pausing}
        title="Pause this workflow?"
        confirmLabel="Pause workflow"
        danger={false}
        busy={status.isPending}
        error={status.error}
        onCancel={() => setPausing(false)}
        onConfirm={() => status.mutate('pause')}
      >
        <p>
          No step runs and no trigger enrolls anyone until you resume it. The {running} {running === 1 ? 'run' : 'runs'} under way wait where they are; steps that fall due meanwhile run as soon as
          it is resumed.
        </p>
      </ConfirmDialog>
    </section>
  );
}
