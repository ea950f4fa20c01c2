import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api.ts';
import { Badge, ConfirmDialog, DataTable, Empty, formatDate, FormError, label, Loading } from '../components.tsx';
import type { Job } from '../types.ts';
import { Progress } from '../JobProgress.tsx';

export function JobsPage() {
  const queryClient = useQueryClient();
  const jobs = useQuery({
    queryKey: ['jobs'],
    queryFn: () => api.get<{ items: Job[] }>('/api/jobs', { limit: 100 }),
    refetchInterval: (q) => (q.state.data?.items.some((j) => j.status === 'queued' || j.status === 'running') ? 1000 : 10000),
  });
  const [cancelling, setCancelling] = useState<Job | null>(null);
  const cancel = useMutation({
    mutationFn: (j: Job) => api.post(`/api/jobs/${j.id}/cancel`),
    onSuccess: () => {
      setCancelling(null);
      queryClient.invalidateQueries({ queryKey: ['jobs'] });
    },
  });
  return (
    <section>
      <h1>Background jobs</h1>
      <FormError error={jobs.error} />
      {jobs.isPending ? (
        <Loading />
      ) : jobs.data?.items.length === 0 ? (
        <Empty>No jobs yet.</Empty>
      ) : (
        <DataTable label="Jobs" columns={['Kind', 'Status', 'Progress', 'Started', 'Finished', { hidden: 'Actions' }]} rows={jobs.data?.items ?? []}>
          {(j) => (
            <tr key={j.id}>
              <td>{label(j.kind.replace(/[._]/g, ' '))}</td>
              <td>
                <Badge value={j.status} />
                {j.error && <div className="field-error">{j.error}</div>}
              </td>
              <td>
                <Progress job={j} />
              </td>
              <td>{formatDate(j.createdAt)}</td>
              <td>{formatDate(j.finishedAt)}</td>
              <td>
                {(j.status === 'queued' || j.status === 'running') && (
                  <button type="button" className="link-button danger-text" onClick={() => setCancelling(j)}>
                    Cancel
                  </button>
                )}
              </td>
            </tr>
          )}
        </DataTable>
      )}
      <ConfirmDialog open={cancelling !== null} title="Cancel this job?" confirmLabel="Cancel job" busy={cancel.isPending} error={cancel.error} onCancel={() => setCancelling(null)} onConfirm={() => cancelling && cancel.mutate(cancelling)}>
        <p>The job stops at its next checkpoint. Work it has already committed stays; nothing is rolled back.</p>
      </ConfirmDialog>
    </section>
  );
}
