import { formatDate } from '../../components.tsx';
import type { WorkflowStepRun } from '../../types.ts';
import { STEP_WORDS } from './describe.ts';

const OUTCOME_WORDS: Record<string, string> = { done: 'done', retry: 'will be retried', failed: 'failed', ended: 'ended the run' };

/** A run's step history: what ran, when, and how it went. */
export function RunHistory({ steps, label }: { steps: WorkflowStepRun[]; label: string }) {
  if (steps.length === 0) return <p className="muted">No step has run yet.</p>;
  return (
    <ol className="timeline" aria-label={label}>
      {steps.map((s, i) => (
        <li key={i}>
          <time dateTime={s.ranAt}>{formatDate(s.ranAt)}</time>
          <span>
            <strong>{s.stepId}</strong> ({STEP_WORDS[s.stepType as keyof typeof STEP_WORDS] ?? s.stepType}): {OUTCOME_WORDS[s.outcome] ?? s.outcome}
            {s.attempt > 1 ? ` (attempt ${s.attempt})` : ''}
            {s.detail ? <span className="muted"> — {s.detail}</span> : null}
          </span>
        </li>
      ))}
    </ol>
  );
}

/** Where a run stands, in words: "Next: grace_period at 12 Mar 2026, 09:00". */
export function nextWords(r: { state: string; stepId: string | null; nextRunAt: string | null }): string {
  if (r.state !== 'active' && r.state !== 'paused') return '—';
  if (!r.stepId) return '—';
  return r.nextRunAt ? `${r.stepId} at ${formatDate(r.nextRunAt)}` : r.stepId;
}
