import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { Field, Loading, fieldError } from '../../components.tsx';
import type { DuplicateRule, IntakeSettings } from '../../types.ts';
import { Refusal } from './Refusal.tsx';
import { RuleFields } from './RuleFields.tsx';

/** The institution's rule: manual creation, imports and every form without its own rule use it. */
export function InstitutionRule() {
  const queryClient = useQueryClient();
  const settings = useQuery({ queryKey: ['intake-settings'], queryFn: () => api.get<IntakeSettings>('/api/intake/settings') });
  const [rule, setRule] = useState<DuplicateRule | null>(null);
  const [region, setRegion] = useState('');
  useEffect(() => {
    if (settings.data && rule === null) {
      setRule(settings.data.duplicateRule);
      setRegion(settings.data.defaultRegion);
    }
  }, [settings.data]);
  const save = useMutation({
    mutationFn: () => api.put<IntakeSettings>('/api/intake/settings', { duplicateRule: rule, defaultRegion: region.trim() }),
    onSuccess: (saved) => {
      queryClient.setQueryData(['intake-settings'], saved);
      queryClient.invalidateQueries({ queryKey: ['forms'] });
    },
  });
  if (settings.isPending || !rule) return <Loading />;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="institution-rule-title" noValidate>
      <h2 id="institution-rule-title">Institution rule</h2>
      <p className="muted">Used for manual creation, imports, and every application form that has no rule of its own.</p>
      <RuleFields rule={rule} onChange={(r) => { setRule(r); save.reset(); }} />
      <Field label="Phone region" hint="two-letter country code national numbers are read in, e.g. US, GB, FR" error={fieldError(save.error, 'defaultRegion')}>
        {(p) => <input {...p} value={region} maxLength={2} onChange={(e) => setRegion(e.target.value)} style={{ width: '6rem' }} />}
      </Field>
      <Refusal error={save.error} />
      {save.isSuccess && (
        <p className="alert alert-success" role="status">
          Saved: {save.data.duplicateRuleDescription}.
        </p>
      )}
      <button type="submit" className="primary" disabled={save.isPending}>
        Save institution rule
      </button>
    </form>
  );
}
