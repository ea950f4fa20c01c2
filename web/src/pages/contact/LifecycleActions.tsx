import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { ConfirmDialog, Field, FormError, formatDate } from '../../components.tsx';
import { useCan } from '../../session.ts';
import type { ActionResult, Contact, ErasureReason, LifecycleActionName, LifecycleView } from '../../types.ts';
import { ERASURE_REASONS } from './erasure-reasons.ts';
import { SubjectAccess } from './SubjectAccess.tsx';

interface Options {
  reason: string;
  erasureReason: ErasureReason;
  employer: boolean;
  doNotEmail: boolean;
  staffOnly: boolean;
  notify: boolean;
}
const DEFAULTS: Options = { reason: '', erasureReason: 'staff_decision', employer: true, doNotEmail: true, staffOnly: true, notify: true };

/** The body each action takes (src/lifecycle/actions.ts actionOptions). */
function bodyOf(action: LifecycleActionName, o: Options): Record<string, unknown> {
  const reason = o.reason.trim() || undefined;
  switch (action) {
    case 'archive':
      return { reason, employer: o.employer, doNotEmail: o.doNotEmail, staffOnly: o.staffOnly };
    case 'delete':
      return { reason: o.erasureReason };
    case 'expunge':
      return { reason: o.erasureReason, notify: o.notify };
    default:
      return { reason };
  }
}

const LABELS: Record<LifecycleActionName, string> = {
  archive: 'Archive',
  unarchive: 'Unarchive',
  reject: 'Reject',
  approve: 'Approve',
  disable: 'Disable',
  restore: 'Restore',
  delete: 'Delete',
  expunge: 'Expunge',
};

/**
 * The lifecycle of one contact (seeds 000 and 001): its state, and every action it allows now,
 * each behind a dialog that says what will happen. Erasures ask to type a word first.
 */
export function LifecycleActions({ contact: c, onErased }: { contact: Contact; onErased: (message: string) => void }) {
  const queryClient = useQueryClient();
  const canWrite = useCan('contacts.write');
  const canDelete = useCan('contacts.delete');
  const canExpunge = useCan('contacts.expunge');
  const lifecycle = useQuery({ queryKey: ['lifecycle', c.id], queryFn: () => api.get<LifecycleView>(`/api/contacts/${c.id}/lifecycle`) });
  const [pending, setPending] = useState<LifecycleActionName | null>(null);
  const [options, setOptions] = useState<Options>(DEFAULTS);
  const [notice, setNotice] = useState<string | null>(null);
  // The button that opened the dialog often disappears with the change (Approve, Archive…): focus moves to the outcome.
  const noticeRef = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (notice) noticeRef.current?.focus();
  }, [notice]);
  const run = useMutation({
    mutationFn: (action: LifecycleActionName) => api.post<ActionResult>(`/api/contacts/${c.id}/${action}`, bodyOf(action, options)),
    onSuccess: (result) => {
      setPending(null);
      if (result.action === 'delete' || result.action === 'expunge') {
        queryClient.removeQueries({ queryKey: ['contact', c.id] });
        queryClient.invalidateQueries({ queryKey: ['contacts'] });
        onErased(result.action === 'expunge' ? 'The contact was expunged: erased everywhere, for good.' : 'The contact was deleted with every record attached to it.');
        return;
      }
      setNotice(result.outcome === 'unchanged' ? (result.detail ?? 'Nothing changed.') : `${LABELS[result.action as LifecycleActionName] ?? result.action}: done.`);
      if (result.lifecycle) queryClient.setQueryData(['lifecycle', c.id], result.lifecycle);
      queryClient.invalidateQueries({ queryKey: ['contact', c.id] });
      queryClient.invalidateQueries({ queryKey: ['activity', c.id] });
      queryClient.invalidateQueries({ queryKey: ['contacts'] });
    },
  });
  const open = (action: LifecycleActionName) => {
    setOptions(DEFAULTS);
    setNotice(null);
    run.reset();
    setPending(action);
  };
  const l = lifecycle.data;
  const name = `${c.firstName} ${c.lastName}`;
  const available: LifecycleActionName[] = [];
  if (l && canWrite) {
    if (l.status === 'disabled') available.push('restore');
    else {
      if (l.approvalStatus !== 'rejected') available.push(l.archived ? 'unarchive' : 'archive');
      if (l.approvalStatus !== 'approved') available.push('approve');
      if (l.approvalStatus !== 'rejected') available.push('reject');
      available.push('disable');
    }
  }
  if (l && canDelete) available.push('delete');
  if (l && canExpunge) available.push('expunge');

  return (
    <div className="card" aria-labelledby="lifecycle-title">
      <h2 id="lifecycle-title">Lifecycle</h2>
      <FormError error={lifecycle.error} />
      {l && (
        <p data-testid="lifecycle-state">
          {l.status === 'disabled' ? <strong>Disabled (account deleted){l.disabledAt ? ` on ${formatDate(l.disabledAt)}` : ''}</strong> : 'Active'}
          {l.archived ? ' · Archived' : ''}
          {l.doNotEmail ? ' · Do not email' : ''}
          {` · ${l.approvalStatus === 'pending' ? 'Pending approval' : l.approvalStatus === 'approved' ? 'Approved' : 'Rejected (data frozen)'}`}
        </p>
      )}
      {notice && (
        <p className="alert alert-info" role="status" tabIndex={-1} ref={noticeRef}>
          {notice}
        </p>
      )}
      <div className="actions">
        {available.map((a) => (
          <button key={a} type="button" className={a === 'delete' || a === 'expunge' || a === 'reject' || a === 'disable' ? 'danger-outline' : undefined} onClick={() => open(a)}>
            {LABELS[a]}
          </button>
        ))}
        <SubjectAccess contact={c} />
      </div>
      {pending && (
        <ConfirmDialog
          open
          title={TITLES[pending](name)}
          confirmLabel={`${LABELS[pending]} contact`}
          danger={pending !== 'approve' && pending !== 'restore' && pending !== 'unarchive'}
          typeToConfirm={pending === 'delete' ? 'DELETE' : pending === 'expunge' ? 'EXPUNGE' : undefined}
          busy={run.isPending}
          error={run.error}
          onCancel={() => setPending(null)}
          onConfirm={() => run.mutate(pending)}
        >
          <Explanation action={pending} contact={c} options={options} setOptions={setOptions} />
        </ConfirmDialog>
      )}
    </div>
  );
}

const TITLES: Record<LifecycleActionName, (name: string) => string> = {
  archive: (n) => `Archive ${n}?`,
  unarchive: (n) => `Unarchive ${n}?`,
  reject: () => 'Reject this contact?',
  approve: () => 'Approve this contact?',
  disable: (n) => `Disable ${n}?`,
  restore: (n) => `Restore ${n}?`,
  delete: (n) => `Delete ${n} and every attached record?`,
  expunge: (n) => `Expunge ${n} permanently?`,
};

function Check({ checked, onChange, children }: { checked: boolean; onChange: (v: boolean) => void; children: ReactNode }) {
  return (
    <label className="inline check-row">
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      {children}
    </label>
  );
}

function Explanation({ action, contact: c, options: o, setOptions }: { action: LifecycleActionName; contact: Contact; options: Options; setOptions: (o: Options) => void }) {
  const name = `${c.firstName} ${c.lastName}`;
  const set = (patch: Partial<Options>) => setOptions({ ...o, ...patch });
  const freeReason = (
    <Field label="Reason (optional, kept in the audit log)">{(p) => <input {...p} value={o.reason} maxLength={500} onChange={(e) => set({ reason: e.target.value })} />}</Field>
  );
  const codeReason = (
    <Field label="Reason">
      {(p) => (
        <select {...p} value={o.erasureReason} onChange={(e) => set({ erasureReason: e.target.value as ErasureReason })}>
          {ERASURE_REASONS.map(([value, text]) => (
            <option key={value} value={value}>
              {text}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
  switch (action) {
    case 'archive':
      return (
        <>
          <p>Archiving keeps {name}'s data but takes them out of active use. Choose what it does:</p>
          <Check checked={o.employer} onChange={(v) => set({ employer: v })}>
            Move to the "Inactive" employer{c.employer ? ` (${c.employer.name} keeps them as a former contact)` : ''}
          </Check>
          <Check checked={o.doNotEmail} onChange={(v) => set({ doNotEmail: v })}>
            Set "Inactive / Do not email": no marketing email is sent to them
          </Check>
          <Check checked={o.staffOnly} onChange={(v) => set({ staffOnly: v })}>
            Restrict visibility to staff
          </Check>
          {freeReason}
          <p className="muted">Unarchive puts back what this changes.</p>
        </>
      );
    case 'unarchive':
      return (
        <>
          <p>{name} gets back what archiving changed: their previous employer, their previous visibility, and "Do not email" is removed. Fields changed by someone since archiving are left as they are.</p>
          {freeReason}
        </>
      );
    case 'reject':
      return (
        <>
          <p>
            {name} will leave the directory and their data is frozen. You can find them with the filter Approval status = rejected, and approve them back later; the change is written to the audit log.
          </p>
          {freeReason}
        </>
      );
    case 'approve':
      return (
        <>
          <p>{name} will be marked approved and shown in the directory, with their data unchanged. The change is written to the audit log.</p>
          {freeReason}
        </>
      );
    case 'disable':
      return (
        <>
          <p>
            {name}'s record is disabled (a soft delete, as when they use "Delete Account"): hidden from the directory, left out of workflows and email, and their self-service sign-in ends. Nothing is
            erased; you can restore it.
          </p>
          {freeReason}
        </>
      );
    case 'restore':
      return (
        <>
          <p>{name} comes back into the directory, workflows and email, exactly as they were when disabled.</p>
          {freeReason}
        </>
      );
    case 'delete':
      return (
        <>
          <p>
            {name} is removed <strong>with every record attached</strong>: meetings, notes, tasks, applications, events and consent. This cannot be undone. The audit log keeps only the reason code.
          </p>
          {codeReason}
        </>
      );
    case 'expunge':
      return (
        <>
          <p>
            {name} is <strong>erased everywhere, permanently</strong>: the profile, every attached record, and their personal data in the audit log is shredded. Downstream systems are told through
            the erasure webhooks. This cannot be undone.
          </p>
          {c.email ? (
            <Check checked={o.notify} onChange={(v) => set({ notify: v })}>
              Email a confirmation to {c.email} before the address is destroyed
            </Check>
          ) : (
            <p className="muted">There is no email address on file, so no confirmation email can be sent.</p>
          )}
          {codeReason}
        </>
      );
  }
}
