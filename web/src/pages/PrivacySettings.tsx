import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api.ts';
import { ConfirmDialog, FormError, Loading } from '../components.tsx';
import { useCan } from '../session.ts';
import type { Institution } from '../types.ts';

interface LifecycleSettings {
  selfServiceDelete: 'soft' | 'expunge';
  suppressionList: boolean;
}

/** What a contact's own "Delete Account" does (seed 000), the suppression list, and where the public pages are. */
export function PrivacySettingsPage() {
  const queryClient = useQueryClient();
  const canChange = useCan('retention.manage');
  const settings = useQuery({ queryKey: ['lifecycle-settings'], queryFn: () => api.get<LifecycleSettings>('/api/lifecycle/settings') });
  const institution = useQuery({ queryKey: ['institution'], queryFn: () => api.get<Institution>('/api/institution') });
  const [pending, setPending] = useState<Partial<LifecycleSettings> | null>(null);
  const save = useMutation({
    mutationFn: (patch: Partial<LifecycleSettings>) => api.patch<LifecycleSettings>('/api/lifecycle/settings', patch),
    onSuccess: (saved) => {
      queryClient.setQueryData(['lifecycle-settings'], saved);
      setPending(null);
    },
  });
  if (settings.isPending) return <Loading />;
  if (settings.isError) return <FormError error={settings.error} />;
  const s = settings.data;
  const slug = institution.data?.slug;
  const ask = (patch: Partial<LifecycleSettings>) => {
    save.reset();
    setPending(patch);
  };
  return (
    <section>
      <h1>Privacy settings</h1>
      <div className="card">
        <h2>"Delete Account" on a contact's own profile</h2>
        <fieldset disabled={!canChange || save.isPending}>
          <legend className="sr-only">What Delete Account does</legend>
          <label className="inline check-row">
            <input type="radio" name="self-delete" checked={s.selfServiceDelete === 'soft'} onChange={() => ask({ selfServiceDelete: 'soft' })} />
            Disable the profile (soft delete): hidden, no more email; staff can restore it
          </label>
          <label className="inline check-row">
            <input type="radio" name="self-delete" checked={s.selfServiceDelete === 'expunge'} onChange={() => ask({ selfServiceDelete: 'expunge' })} />
            Expunge: erase the contact permanently, after emailing them a confirmation
          </label>
        </fieldset>
        <label className="inline check-row">
          <input type="checkbox" disabled={!canChange || save.isPending} checked={s.suppressionList} onChange={(e) => ask({ suppressionList: e.target.checked })} />
          Keep a suppression list: keyed hashes of expunged emails and phones, so an import does not silently bring them back
        </label>
        {!canChange && <p className="muted">Changing these needs the retention.manage permission.</p>}
      </div>
      {slug && (
        <div className="card">
          <h2>Public pages for contacts</h2>
          <ul>
            <li>
              Own profile and Delete Account: <a href={`/profile/${slug}`}>{`${location.origin}/profile/${slug}`}</a>
            </li>
            <li>
              Download my data: <a href={`/my-data/${slug}`}>{`${location.origin}/my-data/${slug}`}</a>
            </li>
          </ul>
        </div>
      )}
      <ConfirmDialog
        open={pending !== null}
        title="Change the privacy settings?"
        confirmLabel="Change setting"
        danger={pending?.selfServiceDelete === 'expunge'}
        busy={save.isPending}
        error={save.error}
        onCancel={() => setPending(null)}
        onConfirm={() => pending && save.mutate(pending)}
      >
        {pending?.selfServiceDelete === 'expunge' && <p>From now on, a contact who uses "Delete Account" is erased everywhere, permanently; nobody can restore them. They get a confirmation email first.</p>}
        {pending?.selfServiceDelete === 'soft' && <p>From now on, "Delete Account" disables the profile; staff can restore it.</p>}
        {pending?.suppressionList === true && <p>Expunged emails and phones are kept as keyed hashes so imports flag them instead of bringing them back.</p>}
        {pending?.suppressionList === false && <p>Expunged emails and phones are no longer remembered: an import could bring an erased person back.</p>}
        <p className="muted">The change is written to the audit log.</p>
      </ConfirmDialog>
    </section>
  );
}
