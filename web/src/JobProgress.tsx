import { label } from './components.tsx';
import type { Job } from './types.ts';

/** A job's progress bar with done / total and the percentage. */
export function Progress({ job }: { job: Job }) {
  const pct = job.progress.percent ?? (job.status === 'succeeded' ? 100 : null);
  return (
    <div className="progress-wrap">
      <progress max={100} value={pct ?? undefined} aria-label={`${label(job.kind)} progress`} />
      <span className="muted">
        {job.progress.done}
        {job.progress.total !== null ? ` / ${job.progress.total}` : ''}
        {pct !== null ? ` (${Math.round(pct)}%)` : ''}
      </span>
    </div>
  );
}
