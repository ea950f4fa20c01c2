import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { ConfirmDialog } from '../../components.tsx';
import { useCan } from '../../session.ts';
import type { Contact, ExportView } from '../../types.ts';

/** Right of access asked for through staff: a copy of all the person's data, as a one-time download for them (or for you to hand over). */
export function SubjectAccess({ contact: c }: { contact: Contact }) {
  const allowed = useCan('exports.approve');
  const [open, setOpen] = useState(false);
  const [deliverTo, setDeliverTo] = useState<'contact' | 'requester'>(c.email ? 'contact' : 'requester');
  const produce = useMutation({ mutationFn: () => api.post<ExportView>(`/api/contacts/${c.id}/subject-access`, { deliverTo }), onSuccess: () => setOpen(false) });
  if (!allowed) return null;
  return (
    <>
      <button type="button" onClick={() => { produce.reset(); setOpen(true); }}>
        Copy of their data…
      </button>
      {produce.isSuccess && (
        <p className="alert alert-success" role="status">
          The copy is being produced. {deliverTo === 'contact' ? `A one-time link goes to ${c.email}.` : 'Download it once from Exports when it is ready.'}
        </p>
      )}
      <ConfirmDialog open={open} title="Send a copy of all their data?" confirmLabel="Produce the copy" danger={false} busy={produce.isPending} error={produce.error} onCancel={() => setOpen(false)} onConfirm={() => produce.mutate()}>
        <p>Everything held about {c.firstName} {c.lastName} (profile, consent, related records, activity) is put in an encrypted zip with JSON and a readable page. It can be downloaded once.</p>
        <fieldset>
          <legend>Who receives the one-time link</legend>
          <label className="inline check-row">
            <input type="radio" name="deliver-to" checked={deliverTo === 'contact'} disabled={!c.email} onChange={() => setDeliverTo('contact')} />
            {c.email ? `The person, at ${c.email}` : 'The person (no email address on file)'}
          </label>
          <label className="inline check-row">
            <input type="radio" name="deliver-to" checked={deliverTo === 'requester'} onChange={() => setDeliverTo('requester')} />
            Me, to hand it over
          </label>
        </fieldset>
      </ConfirmDialog>
    </>
  );
}
