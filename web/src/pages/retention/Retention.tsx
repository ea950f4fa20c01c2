import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { Field, FormError, fieldError } from '../../components.tsx';
import type { RetentionRun, RetentionSettings } from '../../types.ts';
import { BatchSettings } from './BatchSettings.tsx';
import { RunList } from './RunList.tsx';
import { RunPanel } from './RunPanel.tsx';
import { runFinished } from './words.ts';
import './retention.css';

/**
 * Seed 004's "Deletion/anonymisation of inactive contacts": settings, a simulation with its report,
 * the execution (after typing what it will do), and the past runs.
 */
export function RetentionPage() {
  const queryClient = useQueryClient();
  const settings = useQuery({ queryKey: ['retention-settings'], queryFn: () => api.get<RetentionSettings>('/api/retention/settings') });
  const runs = useQuery({ queryKey: ['retention-runs'], queryFn: () => api.get<{ items: RetentionRun[] }>('/api/retention/runs') });
  const [current, setCurrent] = useState<string | null>(null);
  const shown = current ?? runs.data?.items[0]?.id ?? null;
  const busy = runs.data?.items.some((r) => !runFinished(r)) ?? false;
  const [months, setMonths] = useState('');
  useEffect(() => {
    if (settings.data && months === '') setMonths(String(settings.data.inactivityMonths));
  }, [settings.data, months]);
  const simulate = useMutation({
    mutationFn: () => api.post<RetentionRun>('/api/retention/runs', { months: months.trim() !== '' && Number.isFinite(Number(months)) ? Number(months) : months, execute: false }),
    onSuccess: (run) => {
      queryClient.setQueryData(['retention-run', run.id], run);
      queryClient.invalidateQueries({ queryKey: ['retention-runs'] });
      setCurrent(run.id);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    simulate.mutate();
  };
  return (
    <section>
      <h1>Retention</h1>
      <p className="muted lead">
        Deletion/anonymisation of inactive contacts (seed 004). A contact's last activity counts across every organization of the institution. Prospects (who never bought nor benefited) are
        deleted; contacts who bought or benefited are anonymised, irreversibly. Simulate first: a simulation changes nothing.
      </p>
      <div className="grid-2">
        <form className="card" onSubmit={submit} noValidate aria-labelledby="simulate-title">
          <h2 id="simulate-title">Run a simulation</h2>
          <p>Selects the contacts with no activity for the period and reports what an execution would do. Nothing is changed.</p>
          <Field label="Inactive for at least (months)" error={fieldError(simulate.error, 'months')}>
            {(p) => <input {...p} type="number" inputMode="numeric" min={1} className="narrow" value={months} onChange={(e) => setMonths(e.target.value)} />}
          </Field>
          <FormError error={simulate.error} />
          <button type="submit" className="primary" disabled={simulate.isPending || busy}>
            {simulate.isPending ? 'Starting…' : 'Run simulation'}
          </button>
          {busy && <p className="muted">A run is in progress; the next can start when it has finished.</p>}
        </form>
        <BatchSettings />
      </div>
      {shown && (
        <section aria-label={current ? 'This run' : 'Latest run'}>
          <RunPanel key={shown} runId={shown} focusOnMount={current !== null} onExecuted={(run) => setCurrent(run.id)} />
        </section>
      )}
      <RunList current={shown} />
    </section>
  );
}
