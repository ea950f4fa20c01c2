import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { Field, FormError, Modal } from '../../components.tsx';
import { useCan } from '../../session.ts';
import type { AttributeDefinition, BulkReport, Employer, ErasureReason, Page } from '../../types.ts';
import { jobDone, useJob } from '../../useJob.ts';
import { Progress } from '../../JobProgress.tsx';
import type { Filters } from '../Directory.tsx';
import { ERASURE_REASONS } from '../contact/erasure-reasons.ts';
import { BulkReportView } from './BulkReportView.tsx';
import { bulkFilterOf, describeFilter } from './bulk-filter.ts';

type BulkAction = 'update' | 'archive' | 'unarchive' | 'reject' | 'approve' | 'disable' | 'restore' | 'delete' | 'expunge';

const ACTIONS: { value: BulkAction; text: string; permission: string; effect: string }[] = [
  { value: 'update', text: 'Update employer, visibility or an attribute', permission: 'contacts.write', effect: 'get the values chosen below; other fields stay as they are' },
  { value: 'archive', text: 'Archive', permission: 'contacts.write', effect: 'move to the "Inactive" employer, get "Do not email" and become visible to staff only' },
  { value: 'unarchive', text: 'Unarchive (revive)', permission: 'contacts.write', effect: 'get back what archiving changed' },
  { value: 'approve', text: 'Approve', permission: 'contacts.write', effect: 'be approved and shown in the directory, data unchanged' },
  { value: 'reject', text: 'Reject', permission: 'contacts.write', effect: 'leave the directory with their data frozen (approve brings them back)' },
  { value: 'disable', text: 'Disable (soft delete)', permission: 'contacts.write', effect: 'be hidden from the directory, workflows and email; restorable' },
  { value: 'restore', text: 'Restore disabled contacts', permission: 'contacts.write', effect: 'come back into the directory, workflows and email' },
  { value: 'delete', text: 'Delete', permission: 'contacts.delete', effect: 'be removed with every attached record (meetings, notes, tasks, applications, consent); this cannot be undone' },
  { value: 'expunge', text: 'Expunge', permission: 'contacts.expunge', effect: 'be erased everywhere for good, each emailed a confirmation first; this cannot be undone' },
];

const VISIBILITY = [
  ['', 'Leave as is'],
  ['everyone', 'Everyone'],
  ['staff_only', 'Staff only'],
  ['owner_only', 'Owner only'],
];

export function BulkActions({ filters }: { filters: Filters }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="bulk-bar">
      <button type="button" onClick={() => setOpen(true)}>
        Bulk action on these contacts…
      </button>
      {open && <BulkDialog filter={bulkFilterOf(filters)} onClose={() => setOpen(false)} />}
    </div>
  );
}

interface Choice {
  action: BulkAction;
  visibility: string;
  employerId: string;
  attributeKey: string;
  attributeValue: string;
  reason: ErasureReason;
}

function BulkDialog({ filter, onClose }: { filter: Record<string, unknown>; onClose: () => void }) {
  const queryClient = useQueryClient();
  const user = { write: useCan('contacts.write'), delete: useCan('contacts.delete'), expunge: useCan('contacts.expunge') };
  const allowed = ACTIONS.filter((a) => (a.permission === 'contacts.write' ? user.write : a.permission === 'contacts.delete' ? user.delete : user.expunge));
  const [choice, setChoice] = useState<Choice>({ action: allowed[0]?.value ?? 'approve', visibility: '', employerId: '', attributeKey: '', attributeValue: '', reason: 'staff_decision' });
  const [typed, setTyped] = useState('');
  const [jobId, setJobId] = useState<string | null>(null);
  const set = (patch: Partial<Choice>) => {
    setChoice((c) => ({ ...c, ...patch }));
    preview.reset();
  };
  const employers = useQuery({ queryKey: ['employers'], queryFn: () => api.get<Page<Employer>>('/api/employers', { limit: 200 }), enabled: choice.action === 'update' });
  const attributes = useQuery({ queryKey: ['attributes'], queryFn: () => api.get<{ items: AttributeDefinition[] }>('/api/attributes') });
  const action = (): Record<string, unknown> => {
    const c = choice;
    if (c.action === 'update')
      return {
        action: 'update',
        ...(c.visibility ? { visibility: c.visibility } : {}),
        ...(c.employerId ? { employerId: c.employerId === '-' ? null : c.employerId } : {}),
        ...(c.attributeKey ? { attributes: { [c.attributeKey]: c.attributeValue === '' ? null : c.attributeValue } } : {}),
      };
    if (c.action === 'delete') return { action: 'delete', reason: c.reason };
    if (c.action === 'expunge') return { action: 'expunge', reason: c.reason, notify: true };
    return { action: c.action };
  };
  const preview = useMutation({ mutationFn: () => api.post<{ count: number; action: string }>('/api/contacts/bulk/preview', { filter, action: action() }) });
  const start = useMutation({
    mutationFn: () => api.post<{ jobId: string; count: number }>('/api/contacts/bulk', { filter, action: action(), expectedCount: preview.data?.count }),
    onSuccess: (started) => setJobId(started.jobId),
  });
  const job = useJob(jobId);
  const finished = jobDone(job.data);
  const close = () => {
    if (jobId) {
      queryClient.invalidateQueries({ queryKey: ['contacts'] });
      queryClient.invalidateQueries({ queryKey: ['jobs'] });
    }
    onClose();
  };
  const meta = ACTIONS.find((a) => a.value === choice.action)!;
  const erasing = choice.action === 'delete' || choice.action === 'expunge';
  const confirmWord = erasing ? choice.action.toUpperCase() : null;
  const count = preview.data?.count;

  if (jobId)
    return (
      <Modal title={`${meta.text}: ${finished ? 'report' : 'in progress'}`} onClose={close} wide>
        {job.data ? <Progress job={job.data} /> : <p role="status">Starting…</p>}
        <p role="status" aria-live="polite">
          {!job.data || !finished ? 'Working through the contacts; you can close this and follow it on the Jobs page.' : job.data.status === 'succeeded' ? 'Finished.' : `The job ${job.data.status}.`}
        </p>
        {job.data?.error && <p className="alert alert-error">{job.data.error}</p>}
        {finished && job.data?.result ? <BulkReportView report={job.data.result as BulkReport} /> : null}
        <div className="dialog-actions">
          <button type="button" className="primary" onClick={close}>
            Close
          </button>
        </div>
      </Modal>
    );

  return (
    <Modal title="Bulk action" onClose={close} wide>
      <p>
        Applies to the contacts matching the directory's current filters: <strong>{describeFilter(filter)}</strong>. Rejected and disabled contacts are left out unless a filter asks for them.
      </p>
      <Field label="Action">
        {(p) => (
          <select {...p} value={choice.action} onChange={(e) => set({ action: e.target.value as BulkAction })}>
            {allowed.map((a) => (
              <option key={a.value} value={a.value}>
                {a.text}
              </option>
            ))}
          </select>
        )}
      </Field>
      {choice.action === 'update' && (
        <fieldset className="card">
          <legend>New values (leave a field as is to keep it)</legend>
          <Field label="Visibility">
            {(p) => (
              <select {...p} value={choice.visibility} onChange={(e) => set({ visibility: e.target.value })}>
                {VISIBILITY.map(([v, t]) => (
                  <option key={v} value={v}>
                    {t}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Employer">
            {(p) => (
              <select {...p} value={choice.employerId} onChange={(e) => set({ employerId: e.target.value })}>
                <option value="">Leave as is</option>
                <option value="-">No employer</option>
                {employers.data?.items.map((e) => (
                  <option key={e.id} value={e.id}>
                    {e.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Attribute">
            {(p) => (
              <select {...p} value={choice.attributeKey} onChange={(e) => set({ attributeKey: e.target.value, attributeValue: '' })}>
                <option value="">None</option>
                {attributes.data?.items.map((a) => (
                  <option key={a.key} value={a.key}>
                    {a.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {choice.attributeKey && (
            <Field label="Attribute value" hint="empty removes the value">
              {(p) => <input {...p} value={choice.attributeValue} onChange={(e) => set({ attributeValue: e.target.value })} />}
            </Field>
          )}
        </fieldset>
      )}
      {erasing && (
        <Field label="Reason">
          {(p) => (
            <select {...p} value={choice.reason} onChange={(e) => set({ reason: e.target.value as ErasureReason })}>
              {ERASURE_REASONS.map(([v, t]) => (
                <option key={v} value={v}>
                  {t}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      <FormError error={preview.error} />
      {count !== undefined && (
        <div className={`alert ${erasing ? 'alert-error' : 'alert-info'}`} role="status" data-testid="bulk-preview">
          <strong>
            {count} contact{count === 1 ? '' : 's'}
          </strong>{' '}
          will {meta.effect}. Each change is audited; the job reports what changed, what already was so, and what was refused and why.
        </div>
      )}
      {count !== undefined && confirmWord && (
        <Field label={`Type ${confirmWord} to confirm`}>{(p) => <input {...p} value={typed} autoComplete="off" onChange={(e) => setTyped(e.target.value)} />}</Field>
      )}
      <FormError error={start.error} />
      <div className="dialog-actions">
        <button type="button" onClick={close}>
          Cancel
        </button>
        {count === undefined ? (
          <button type="button" className="primary" disabled={preview.isPending} onClick={() => preview.mutate()}>
            {preview.isPending ? 'Counting…' : 'Preview count'}
          </button>
        ) : (
          <button
            type="button"
            className={erasing ? 'danger' : 'primary'}
            disabled={count === 0 || start.isPending || (confirmWord !== null && typed.trim() !== confirmWord)}
            onClick={() => start.mutate()}
          >
            {start.isPending ? 'Starting…' : `${meta.text.split(' (')[0]} ${count} contact${count === 1 ? '' : 's'}`}
          </button>
        )}
      </div>
    </Modal>
  );
}
