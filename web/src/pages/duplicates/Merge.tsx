import { useState } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { ConfirmDialog, FormError, Loading, formatDate, label } from '../../components.tsx';
import { Link, navigate } from '../../router.tsx';
import type { Contact, MergePreview, MergeSide, Organization, User } from '../../types.ts';

const FIELD_WORDS: Record<string, string> = {
  firstName: 'First name',
  lastName: 'Last name',
  email: 'Email',
  mobilePhone: 'Mobile phone',
  ssn: 'SSN',
  employerId: 'Employer',
  organizationId: 'Organization',
  ownerUserId: 'Owner',
  visibility: 'Visibility',
  approvalStatus: 'Approval',
  optInStatus: 'Opt-in',
};

/**
 * Merge two contacts field by field: the survivor keeps, for each field, the value chosen here;
 * the other contact's records move to it and the other is deleted.
 */
export function MergePage({ survivorId, otherId }: { survivorId: string; otherId: string }) {
  const queryClient = useQueryClient();
  const [choices, setChoices] = useState<Record<string, MergeSide>>({});
  const [confirming, setConfirming] = useState(false);
  const survivor = useQuery({ queryKey: ['contact', survivorId], queryFn: () => api.get<Contact>(`/api/contacts/${survivorId}`) });
  const other = useQuery({ queryKey: ['contact', otherId], queryFn: () => api.get<Contact>(`/api/contacts/${otherId}`) });
  const organizations = useQuery({ queryKey: ['organizations'], queryFn: () => api.get<{ items: Organization[] }>('/api/organizations') });
  // Owners by name; a user who may not list users sees "a staff user" rather than an id.
  const users = useQuery({ queryKey: ['users'], queryFn: () => api.get<{ items: User[] }>('/api/users'), retry: false });
  const preview = useQuery({
    queryKey: ['merge-preview', survivorId, otherId, choices],
    queryFn: () => api.post<MergePreview>(`/api/contacts/${survivorId}/merge/preview`, { otherId, choices }),
    placeholderData: keepPreviousData,
  });
  const merge = useMutation({
    mutationFn: () => api.post<{ contact: Contact }>(`/api/contacts/${survivorId}/merge`, { otherId, choices }),
    onSuccess: (result) => {
      queryClient.setQueryData(['contact', survivorId], result.contact);
      queryClient.removeQueries({ queryKey: ['contact', otherId] });
      queryClient.invalidateQueries({ queryKey: ['possible-duplicates'] });
      queryClient.invalidateQueries({ queryKey: ['contacts'] });
      navigate(`/contacts/${survivorId}`);
    },
  });
  if (survivor.isPending || other.isPending || preview.isPending) return <Loading />;
  const error = survivor.error ?? other.error ?? preview.error;
  if (error || !survivor.data || !other.data || !preview.data)
    return (
      <section>
        <h1>Merge contacts</h1>
        <FormError error={error} />
        <Link to="/duplicates">Back to duplicates</Link>
      </section>
    );
  const s = survivor.data;
  const o = other.data;
  const show = (field: string, value: unknown, c: Contact): string => {
    if (value === null || value === undefined || value === '') return '—';
    if (field === 'employerId') return c.employer?.id === value ? c.employer.name : 'another employer';
    if (field === 'organizationId') return organizations.data?.items.find((x) => x.id === value)?.name ?? 'another organization';
    if (field === 'ownerUserId') return users.data?.items.find((x) => x.id === value)?.name ?? 'a staff user';
    if (field === 'ssn') return 'on file';
    if (typeof value === 'boolean') return value ? 'Yes' : 'No';
    return typeof value === 'string' && /^[a-z_]+$/.test(value) && !['email'].includes(field) ? label(value) : String(value);
  };
  // Two contacts often share a name: say which is which.
  const who = (c: Contact) => `${c.firstName} ${c.lastName} (${c.email ?? c.mobilePhone ?? 'no email'}, created ${formatDate(c.createdAt)})`;
  const fieldName = (f: string) => FIELD_WORDS[f] ?? (f.startsWith('attributes.') ? `Attribute ${f.slice(11)}` : f);
  const moves = Object.entries(preview.data.moves).filter(([, n]) => n > 0);
  return (
    <section>
      <p>
        <Link to="/duplicates">← Duplicates</Link>
      </p>
      <div className="page-head">
        <h1>Merge contacts</h1>
        <button type="button" onClick={() => navigate(`/duplicates/merge/${otherId}/${survivorId}`, true)}>
          Keep the other one instead
        </button>
      </div>
      <p>
        <strong>{who(s)}</strong> stays; <strong>{who(o)}</strong> is merged into it and then deleted. Choose, field by field, whose value stays.
      </p>
      <div className="table-scroll">
        <table className="table merge-table" aria-label="Field by field">
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Stays: {s.firstName} {s.lastName}</th>
              <th scope="col">Merged in: {o.firstName} {o.lastName}</th>
            </tr>
          </thead>
          <tbody>
            {preview.data.fields.map((f) => {
              const same = JSON.stringify(f.survivor) === JSON.stringify(f.other);
              const name = `choice-${f.field}`;
              return (
                <tr key={f.field} className={!same ? 'selected-row' : undefined}>
                  <th scope="row">{fieldName(f.field)}</th>
                  {(['survivor', 'other'] as const).map((side) => (
                    <td key={side}>
                      {same ? (
                        show(f.field, f[side], side === 'survivor' ? s : o)
                      ) : (
                        <label>
                          <input
                            type="radio"
                            name={name}
                            checked={(choices[f.field] ?? f.chosen) === side}
                            onChange={() => setChoices({ ...choices, [f.field]: side })}
                            aria-label={`${fieldName(f.field)}: keep ${show(f.field, f[side], side === 'survivor' ? s : o)}`}
                          />
                          {show(f.field, f[side], side === 'survivor' ? s : o)}
                        </label>
                      )}
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p className="muted">
        {moves.length ? `Records that move to the contact that stays: ${moves.map(([k, n]) => `${n} ${label(k).toLowerCase()}`).join(', ')}.` : 'The merged contact has no records to move.'}
      </p>
      <FormError error={merge.error} />
      <button type="button" className="danger" onClick={() => setConfirming(true)}>
        Merge
      </button>
      <ConfirmDialog
        open={confirming}
        title="Merge these contacts?"
        confirmLabel="Merge contacts"
        busy={merge.isPending}
        error={merge.error}
        onCancel={() => setConfirming(false)}
        onConfirm={() => merge.mutate()}
      >
        <p>
          {s.firstName} {s.lastName} takes the values you chose. The records of {o.firstName} {o.lastName} move to them, then {o.firstName} {o.lastName} is deleted. This cannot be undone; the merge
          is audited with both contacts as they were.
        </p>
      </ConfirmDialog>
    </section>
  );
}
