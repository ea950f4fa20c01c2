import { useEffect } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { useCan } from '../../session.ts';
import type { RetentionRun } from '../../types.ts';
import { useJob } from '../../useJob.ts';
import { runFinished } from './words.ts';

/** A run of the batch, polled while it is queued or running, with its job (for the progress bar). */
export function useRun(runId: string | null) {
  const queryClient = useQueryClient();
  const canSeeJobs = useCan('contacts.read');
  const run = useQuery({
    queryKey: ['retention-run', runId],
    queryFn: () => api.get<RetentionRun>(`/api/retention/runs/${runId}`),
    enabled: runId !== null,
    refetchInterval: (q) => (runFinished(q.state.data) ? false : 500),
  });
  const finished = runFinished(run.data);
  const job = useJob(canSeeJobs && run.data && !finished ? run.data.jobId : null);
  useEffect(() => {
    if (finished) queryClient.invalidateQueries({ queryKey: ['retention-runs'] });
  }, [finished, queryClient]);
  return { run, job };
}
