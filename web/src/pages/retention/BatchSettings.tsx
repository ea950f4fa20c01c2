import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { ConfirmDialog, Field, FormError, Loading, fieldError } from '../../components.tsx';
import type { RetentionSettings } from '../../types.ts';

interface Form {
  inactivityMonths: string;
  simulation: boolean;
  schedule: string;
  logRetentionMonths: string;
}

const toForm = (s: RetentionSettings): Form => ({ inactivityMonths: String(s.inactivityMonths), simulation: s.simulation, schedule: s.schedule ?? '', logRetentionMonths: String(s.logRetentionMonths) });

/** A number as typed: the server names what is wrong with anything that is not one. */
const asNumber = (v: string): number => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : (v as unknown as number));

/** The batch's settings (seed 004 defaults: 36 months, simulation); turning simulation off for scheduled runs asks first. */
export function BatchSettings() {
  const queryClient = useQueryClient();
  const settings = useQuery({ queryKey: ['retention-settings'], queryFn: () => api.get<RetentionSettings>('/api/retention/settings') });
  const [form, setForm] = useState<Form | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (settings.data && !form) setForm(toForm(settings.data));
  }, [settings.data, form]);
  const save = useMutation({
    mutationFn: (f: Form) =>
      api.patch<RetentionSettings>('/api/retention/settings', {
        inactivityMonths: asNumber(f.inactivityMonths),
        simulation: f.simulation,
        schedule: f.schedule.trim() === '' ? null : f.schedule.trim(),
        logRetentionMonths: asNumber(f.logRetentionMonths),
      }),
    onSuccess: (s) => {
      queryClient.setQueryData(['retention-settings'], s);
      setForm(toForm(s));
      setConfirming(false);
      setSaved(true);
    },
    onError: () => setConfirming(false),
  });
  if (settings.isPending || !form) return <div className="card"><Loading /></div>;
  if (settings.isError) return <FormError error={settings.error} />;
  const set = (patch: Partial<Form>) => {
    setSaved(false);
    setForm({ ...form, ...patch });
  };
  const goesLive = !form.simulation && settings.data.simulation;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (goesLive) {
      save.reset();
      setConfirming(true);
    } else save.mutate(form);
  };
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="batch-settings-title">
      <h2 id="batch-settings-title">Batch settings</h2>
      <Field label="Default inactivity period (months)" error={fieldError(save.error, 'inactivityMonths')} hint="Contacts with no activity for longer are deleted (prospects) or anonymised (customers)">
        {(p) => <input {...p} type="number" inputMode="numeric" min={1} className="narrow" value={form.inactivityMonths} onChange={(e) => set({ inactivityMonths: e.target.value })} />}
      </Field>
      <label className="inline check-row">
        <input type="checkbox" checked={form.simulation} onChange={(e) => set({ simulation: e.target.checked })} aria-describedby="simulation-hint" />
        Simulation mode for scheduled runs
      </label>
      <small id="simulation-hint" className="hint block">
        On (the default): a scheduled run only reports what it would do. Off: scheduled runs delete and anonymise for real.
      </small>
      {fieldError(save.error, 'simulation') && <p className="field-error">{fieldError(save.error, 'simulation')}</p>}
      <Field label="Schedule (cron, UTC)" error={fieldError(save.error, 'schedule')} hint='Empty: not scheduled. E.g. "0 3 1 * *": 03:00 UTC on the 1st of each month'>
        {(p) => <input {...p} value={form.schedule} onChange={(e) => set({ schedule: e.target.value })} autoComplete="off" />}
      </Field>
      <Field label="Log retention (months)" error={fieldError(save.error, 'logRetentionMonths')} hint="How long support may recover an anonymised contact from the logs; then it is irretrievable">
        {(p) => <input {...p} type="number" inputMode="numeric" min={1} className="narrow" value={form.logRetentionMonths} onChange={(e) => set({ logRetentionMonths: e.target.value })} />}
      </Field>
      <FormError error={confirming ? null : save.error} />
      {saved && (
        <p className="alert alert-success" role="status">
          Settings saved (and written to the audit log).
        </p>
      )}
      <button type="submit" className="primary" disabled={save.isPending}>
        Save settings
      </button>
      <ConfirmDialog
        open={confirming}
        title="Turn simulation mode off?"
        confirmLabel="Save: scheduled runs execute"
        busy={save.isPending}
        error={save.error}
        onCancel={() => setConfirming(false)}
        onConfirm={() => save.mutate(form)}
      >
        <p>
          {form.schedule.trim()
            ? `Each scheduled run (${form.schedule.trim()}, UTC) will delete the inactive prospects and anonymise the inactive customers for real, without asking again.`
            : 'Once a schedule is set, each scheduled run will delete the inactive prospects and anonymise the inactive customers for real, without asking again.'}
        </p>
        <p className="muted">Runs started from this page are simulations until you choose to execute one.</p>
      </ConfirmDialog>
    </form>
  );
}
