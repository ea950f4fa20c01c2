import { useQuery } from '@tanstack/react-query';
import { api } from './api.ts';
import type { Job } from './types.ts';

export const jobDone = (job: Job | undefined) => !!job && (job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled');

/** A background job, polled twice a second until it ends. */
export function useJob(jobId: string | null) {
  return useQuery({
    queryKey: ['job', jobId],
    queryFn: () => api.get<Job>(`/api/jobs/${jobId}`),
    enabled: jobId !== null,
    refetchInterval: (q) => (jobDone(q.state.data) ? false : 500),
  });
}
