import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { Field, FormError, fieldError } from '../../components.tsx';
import { useUser } from '../../session.ts';
import type { ExportView, Organization } from '../../types.ts';
import { describeOutcome } from './export-words.ts';

/** A team's full export: the policy decides (team admin, same domain, a reason; free tier and agency data refused). */
export function RequestForm({ organizations }: { organizations: Organization[] }) {
  const queryClient = useQueryClient();
  const user = useUser();
  const [organizationId, setOrganizationId] = useState(user.organizationId ?? '');
  const [reason, setReason] = useState('');
  const [agency, setAgency] = useState(false);
  const [format, setFormat] = useState<'csv' | 'json'>('csv');
  const submit = useMutation({
    mutationFn: () => api.post<ExportView>('/api/export-requests', { organizationId, reason: reason.trim() || undefined, agency, format }),
    onSuccess: () => {
      setReason('');
      queryClient.invalidateQueries({ queryKey: ['exports'] });
    },
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    submit.mutate();
  };
  return (
    <form className="card stack" onSubmit={onSubmit} aria-labelledby="request-title" noValidate>
      <h2 id="request-title">Request a full team export</h2>
      <p className="muted">For more contacts than the self-serve limit, or a whole team's data. You must be an administrator of the team, with an email at its domain.</p>
      <Field label="Team" error={fieldError(submit.error, 'organizationId')}>
        {(p) => (
          <select {...p} value={organizationId} onChange={(e) => setOrganizationId(e.target.value)}>
            <option value="">Choose…</option>
            {organizations.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name} ({o.tier.replace('_', '-')})
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Reason" hint="required by the export policy, e.g. the team is moving to another system" error={fieldError(submit.error, 'reason')}>
        {(p) => <textarea {...p} rows={3} value={reason} maxLength={2000} onChange={(e) => setReason(e.target.value)} />}
      </Field>
      <label className="inline check-row">
        <input type="checkbox" checked={agency} onChange={(e) => setAgency(e.target.checked)} />
        This is for an agency contract's data (always refused)
      </label>
      <Field label="Format">
        {(p) => (
          <select {...p} value={format} onChange={(e) => setFormat(e.target.value as 'csv' | 'json')}>
            <option value="csv">CSV</option>
            <option value="json">JSON</option>
          </select>
        )}
      </Field>
      <FormError error={submit.error} />
      {submit.data && (
        <p className={`alert ${submit.data.status === 'refused' ? 'alert-error' : 'alert-success'}`} role="status" data-testid="request-outcome">
          {describeOutcome(submit.data)}
        </p>
      )}
      <button type="submit" className="primary" disabled={submit.isPending || !organizationId}>
        Send the request
      </button>
    </form>
  );
}
