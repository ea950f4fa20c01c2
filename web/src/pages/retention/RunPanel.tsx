import { useEffect, useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { FormError, Loading, formatDate } from '../../components.tsx';
import { Progress } from '../../JobProgress.tsx';
import type { RetentionRun, RetentionSettings } from '../../types.ts';
import { ExecuteDialog } from './ExecuteDialog.tsx';
import { RunReport } from './RunReport.tsx';
import { useRun } from './useRun.ts';
import { formatDay, inactiveTotal, MODE_WORDS, plural, RUN_STATUS_BADGE, RUN_STATUS_WORDS, runFinished } from './words.ts';

/** One run of the batch: its progress while it works, then its report; a finished simulation offers the execution. */
export function RunPanel({ runId, onExecuted, focusOnMount = false }: { runId: string; onExecuted: (run: RetentionRun) => void; focusOnMount?: boolean }) {
  const queryClient = useQueryClient();
  const { run, job } = useRun(runId);
  const settings = useQuery({ queryKey: ['retention-settings'], queryFn: () => api.get<RetentionSettings>('/api/retention/settings') });
  const [confirming, setConfirming] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const loaded = run.data !== undefined;
  // A run started from another panel (the execution of a simulation) takes the focus, so it is not lost with the old panel.
  useEffect(() => {
    if (focusOnMount && loaded) heading.current?.focus();
  }, [focusOnMount, loaded]);
  const execute = useMutation({
    mutationFn: (months: number) => api.post<RetentionRun>('/api/retention/runs', { months, execute: true }),
    onSuccess: (started) => {
      queryClient.setQueryData(['retention-run', started.id], started);
      queryClient.invalidateQueries({ queryKey: ['retention-runs'] });
      setConfirming(false);
      onExecuted(started);
    },
  });
  if (run.isPending) return <Loading />;
  if (run.isError) return <FormError error={run.error} />;
  const r = run.data;
  const finished = runFinished(r);
  const n = r.report ? inactiveTotal(r.report) : 0;
  return (
    <div className="card" aria-labelledby={`run-${r.id}-title`} data-testid="retention-run" data-run={r.id} data-status={r.status}>
      <div className="card-head">
        <h2 id={`run-${r.id}-title`} ref={heading} tabIndex={-1}>
          {MODE_WORDS[r.mode]} of {formatDay(r.asOf)} · {plural(r.months, 'month')}
        </h2>
        <span className={`badge badge-${RUN_STATUS_BADGE[r.status]}`} data-testid="run-status">
          {RUN_STATUS_WORDS[r.status]}
        </span>
      </div>
      <p className="muted">
        Cutoff: contacts with no activity since {formatDate(r.cutoff)}. Started {formatDate(r.createdAt)}
        {r.finishedAt ? `, finished ${formatDate(r.finishedAt)}` : ''}.
      </p>
      {!finished && (
        <div role="status" aria-live="polite">
          {job.data ? <Progress job={job.data} /> : <progress aria-label="Run progress" />}
          <p className="muted">{r.status === 'queued' ? 'Waiting for the worker…' : r.mode === 'simulation' ? 'Selecting the inactive contacts and writing the report…' : 'Deleting and anonymising…'}</p>
        </div>
      )}
      {r.status === 'failed' && (
        <p className="alert alert-error" role="alert">
          The run failed{job.data?.error ? `: ${job.data.error}` : '.'} Its lock is released; you can start another.
        </p>
      )}
      {r.report && finished && <RunReport run={r} />}
      {r.mode === 'simulation' && r.status === 'succeeded' && r.report && (
        <div className="execute-box">
          {n === 0 ? (
            <p className="muted">Nothing to execute: no contact is inactive for {plural(r.months, 'month')}.</p>
          ) : (
            <>
              <p>
                Executing deletes {plural(r.report.totals.prospectsToDelete, 'prospect')} and anonymises {plural(r.report.totals.customersToAnonymise, 'customer')}, irreversibly.
              </p>
              <button type="button" className="danger" onClick={() => (execute.reset(), setConfirming(true))}>
                Execute for real…
              </button>
            </>
          )}
          <ExecuteDialog
            simulation={r}
            settings={settings.data}
            open={confirming}
            busy={execute.isPending}
            error={execute.error}
            onCancel={() => setConfirming(false)}
            onConfirm={() => execute.mutate(r.months)}
          />
        </div>
      )}
    </div>
  );
}
