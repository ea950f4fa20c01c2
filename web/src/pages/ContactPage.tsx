import { useState, type FormEvent, type ReactNode } from 'react';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError } from '../api.ts';
import { Badge, ConfirmDialog, Empty, Field, FormError, Loading, fieldError, formatDate, label } from '../components.tsx';
import { Link } from '../router.tsx';
import { useCan } from '../session.ts';
import type { ActivityItem, AttributeDefinition, Contact, Page } from '../types.ts';
import { LifecycleActions } from './contact/LifecycleActions.tsx';
import { ContactWorkflowRuns } from './contact/WorkflowRuns.tsx';

export function ContactPage({ id }: { id: string }) {
  const [erased, setErased] = useState<string | null>(null);
  const contact = useQuery({ queryKey: ['contact', id], queryFn: () => api.get<Contact>(`/api/contacts/${encodeURIComponent(id)}`), enabled: erased === null });
  if (erased)
    return (
      <section>
        <h1 tabIndex={-1} ref={(h) => h?.focus()}>
          Contact removed
        </h1>
        <p className="alert alert-success" role="status">
          {erased}
        </p>
        <Link to="/contacts">Back to contacts</Link>
      </section>
    );
  if (contact.isPending) return <Loading />;
  if (contact.isError)
    return (
      <section>
        <p className="alert alert-error" role="alert">
          {contact.error instanceof ApiError && contact.error.status === 404 ? 'This contact does not exist or you may not see it.' : contact.error.message}
        </p>
        <Link to="/contacts">Back to contacts</Link>
      </section>
    );
  const c = contact.data;
  return (
    <section className="contact-page">
      <p>
        <Link to="/contacts">← Contacts</Link>
      </p>
      <div className="page-head">
        <h1>
          {c.firstName} {c.lastName}
        </h1>
        <Badge value={c.approvalStatus} />
      </div>
      <div className="grid-2">
        <div>
          <Profile contact={c} />
          <LifecycleActions contact={c} onErased={setErased} />
          <Consent contact={c} />
          <Related contactId={c.id} />
          <ContactWorkflowRuns contactId={c.id} />
        </div>
        <div>
          <Timeline contactId={c.id} />
        </div>
      </div>
    </section>
  );
}

function Row({ name, children }: { name: string; children: ReactNode }) {
  return (
    <>
      <dt>{name}</dt>
      <dd>{children}</dd>
    </>
  );
}

function useContactUpdate(contact: Contact) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (patch: Record<string, unknown>) => api.patch<Contact>(`/api/contacts/${contact.id}`, patch),
    onSuccess: (updated) => {
      queryClient.setQueryData(['contact', contact.id], updated);
      queryClient.invalidateQueries({ queryKey: ['contacts'] });
      queryClient.invalidateQueries({ queryKey: ['activity', contact.id] });
    },
  });
}

function Profile({ contact: c }: { contact: Contact }) {
  const canWrite = useCan('contacts.write');
  const [editing, setEditing] = useState(false);
  const attributes = useQuery({ queryKey: ['attributes'], queryFn: () => api.get<{ items: AttributeDefinition[] }>('/api/attributes') });
  const labels = new Map((attributes.data?.items ?? []).map((a) => [a.key, a.label]));
  return (
    <div className="card">
      <div className="card-head">
        <h2>Profile</h2>
        {canWrite && !editing && (
          <div className="actions">
            <button type="button" onClick={() => setEditing(true)}>
              Edit
            </button>
          </div>
        )}
      </div>
      {editing ? (
        <EditProfile contact={c} onDone={() => setEditing(false)} />
      ) : (
        <dl className="facts">
          <Row name="Email">{c.email ?? '—'}</Row>
          <Row name="Mobile phone">{c.mobilePhone ?? '—'}</Row>
          <Row name="SSN">{c.ssnOnFile ? 'On file (stored only as keyed hashes)' : 'Not on file'}</Row>
          <Row name="Employer">{c.employer ? `${c.employer.name} since ${formatDate(c.employer.since)}` : '—'}</Row>
          {c.formerEmployers.length > 0 && <Row name="Former employers">{c.formerEmployers.map((e) => `${e.name} (until ${formatDate(e.endedAt)})`).join('; ')}</Row>}
          <Row name="Visibility">{label(c.visibility)}</Row>
          <Row name="Approval">{label(c.approvalStatus)}</Row>
          <Row name="Source">{label(c.source)}</Row>
          <Row name="Created">{formatDate(c.createdAt)}</Row>
          <Row name="Last changed">{formatDate(c.updatedAt)}</Row>
          {Object.entries(c.attributes).map(([key, value]) => (
            <Row key={key} name={labels.get(key) ?? key}>
              {typeof value === 'boolean' ? (value ? 'Yes' : 'No') : String(value)}
            </Row>
          ))}
        </dl>
      )}
    </div>
  );
}

function EditProfile({ contact: c, onDone }: { contact: Contact; onDone: () => void }) {
  const update = useContactUpdate(c);
  const [form, setForm] = useState({ firstName: c.firstName, lastName: c.lastName, email: c.email ?? '', mobilePhone: c.mobilePhone ?? '', visibility: c.visibility });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    update.mutate(
      { firstName: form.firstName, lastName: form.lastName, email: form.email || null, mobilePhone: form.mobilePhone || null, visibility: form.visibility },
      { onSuccess: onDone },
    );
  };
  const input = (name: 'firstName' | 'lastName' | 'email' | 'mobilePhone', text: string) => (
    <Field label={text} error={fieldError(update.error, name)}>
      {(p) => <input {...p} name={name} value={form[name]} onChange={(e) => setForm({ ...form, [name]: e.target.value })} />}
    </Field>
  );
  return (
    <form onSubmit={submit} noValidate>
      {input('firstName', 'First name')}
      {input('lastName', 'Last name')}
      {input('email', 'Email')}
      {input('mobilePhone', 'Mobile phone')}
      <Field label="Visibility" error={fieldError(update.error, 'visibility')}>
        {(p) => (
          <select {...p} value={form.visibility} onChange={(e) => setForm({ ...form, visibility: e.target.value as Contact['visibility'] })}>
            <option value="everyone">Everyone</option>
            <option value="staff_only">Staff only</option>
            <option value="owner_only">Owner only</option>
          </select>
        )}
      </Field>
      <FormError error={update.error} />
      <div className="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={update.isPending}>
          Save
        </button>
      </div>
    </form>
  );
}

function Consent({ contact: c }: { contact: Contact }) {
  const canWrite = useCan('contacts.write');
  const queryClient = useQueryClient();
  const [purpose, setPurpose] = useState('');
  const save = useMutation({
    mutationFn: (body: { optInStatus?: string; authorizations?: Record<string, boolean> }) => api.put<Contact>(`/api/contacts/${c.id}/consent`, body),
    onSuccess: (updated) => {
      queryClient.setQueryData(['contact', c.id], updated);
      queryClient.invalidateQueries({ queryKey: ['activity', c.id] });
      setPurpose('');
    },
  });
  return (
    <div className="card">
      <h2>Consent and authorizations</h2>
      <Field label="Opt-in status" error={fieldError(save.error, 'optInStatus')} hint={c.optInChangedAt ? `Changed ${formatDate(c.optInChangedAt)}` : undefined}>
        {(p) => (
          <select {...p} value={c.optInStatus} disabled={!canWrite || save.isPending} onChange={(e) => save.mutate({ optInStatus: e.target.value })}>
            <option value="unknown">Unknown</option>
            <option value="opted_in">Opted in</option>
            <option value="opted_out">Opted out</option>
          </select>
        )}
      </Field>
      {Object.keys(c.authorizations).length === 0 ? (
        <Empty>No authorizations recorded.</Empty>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Purpose</th>
              <th scope="col">Granted</th>
              <th scope="col">Since</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(c.authorizations).map(([key, a]) => (
              <tr key={key}>
                <td>{label(key)}</td>
                <td>
                  <label className="inline">
                    <input type="checkbox" checked={a.granted} disabled={!canWrite || save.isPending} onChange={(e) => save.mutate({ authorizations: { [key]: e.target.checked } })} />
                    {a.granted ? 'Yes' : 'No'}
                  </label>
                </td>
                <td>{formatDate(a.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canWrite && (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (purpose.trim()) save.mutate({ authorizations: { [purpose.trim()]: true } });
          }}
        >
          <Field label="Record a new authorization (purpose key)" error={fieldError(save.error, `authorizations.${purpose.trim()}`)} hint="lowercase, e.g. marketing_email">
            {(p) => <input {...p} value={purpose} onChange={(e) => setPurpose(e.target.value)} />}
          </Field>
          <button type="submit">Grant</button>
        </form>
      )}
      <FormError error={save.error} />
    </div>
  );
}

function describeActivity(a: ActivityItem): string {
  const text = label(a.type.replace(/\./g, ' '));
  const d = a.data ?? {};
  const detail = ['title', 'status', 'reason', 'field', 'fields'].map((k) => d[k]).filter((v) => v !== undefined && v !== null);
  return detail.length ? `${text} — ${detail.map((v) => (Array.isArray(v) ? v.join(', ') : String(v))).join(' · ')}` : text;
}

function Timeline({ contactId }: { contactId: string }) {
  const activity = useInfiniteQuery({
    queryKey: ['activity', contactId],
    queryFn: ({ pageParam }) => api.get<Page<ActivityItem, number>>(`/api/contacts/${contactId}/activity`, { before: pageParam ?? undefined, limit: 50 }),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => last.nextCursor,
  });
  const items = activity.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="card">
      <h2>Activity</h2>
      {activity.isPending ? (
        <Loading />
      ) : items.length === 0 ? (
        <Empty>No activity yet.</Empty>
      ) : (
        <ol className="timeline" aria-label="Activity timeline">
          {items.map((a) => (
            <li key={a.seq}>
              <time dateTime={a.occurredAt}>{formatDate(a.occurredAt)}</time>
              <span>{describeActivity(a)}</span>
            </li>
          ))}
        </ol>
      )}
      {activity.hasNextPage && (
        <button type="button" onClick={() => activity.fetchNextPage()} disabled={activity.isFetchingNextPage}>
          Older activity
        </button>
      )}
    </div>
  );
}

type Kind = 'notes' | 'meetings' | 'tasks';
interface RelatedRecord {
  id: string;
  body?: string;
  title?: string;
  scheduledAt?: string;
  notes?: string | null;
  dueAt?: string | null;
  done?: boolean;
  createdAt: string;
}

function Related({ contactId }: { contactId: string }) {
  const [tab, setTab] = useState<Kind | 'applications'>('notes');
  const tabs: [Kind | 'applications', string][] = [
    ['notes', 'Notes'],
    ['meetings', 'Meetings'],
    ['tasks', 'Tasks'],
    ['applications', 'Applications'],
  ];
  return (
    <div className="card">
      <div role="tablist" aria-label="Related records" className="tabs">
        {tabs.map(([key, text]) => (
          <button key={key} role="tab" type="button" id={`tab-${key}`} aria-selected={tab === key} aria-controls={`panel-${key}`} onClick={() => setTab(key)}>
            {text}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'applications' ? <Applications contactId={contactId} /> : <RecordList key={tab} contactId={contactId} kind={tab} />}
      </div>
    </div>
  );
}

function RecordList({ contactId, kind }: { contactId: string; kind: Kind }) {
  const queryClient = useQueryClient();
  const canWrite = useCan('contacts.write');
  const key = ['related', contactId, kind];
  const list = useQuery({ queryKey: key, queryFn: () => api.get<Page<RelatedRecord>>(`/api/contacts/${contactId}/${kind}`, { limit: 200 }) });
  const [form, setForm] = useState({ body: '', title: '', when: '', notes: '' });
  const [deleting, setDeleting] = useState<RelatedRecord | null>(null);
  const refresh = () => {
    queryClient.invalidateQueries({ queryKey: key });
    queryClient.invalidateQueries({ queryKey: ['activity', contactId] });
  };
  const add = useMutation({
    mutationFn: () => {
      if (kind === 'notes') return api.post(`/api/contacts/${contactId}/notes`, { body: form.body });
      if (kind === 'meetings')
        return api.post(`/api/contacts/${contactId}/meetings`, { title: form.title, scheduledAt: form.when ? new Date(form.when).toISOString() : '', notes: form.notes || null });
      return api.post(`/api/contacts/${contactId}/tasks`, { title: form.title, dueAt: form.when ? new Date(form.when).toISOString() : null });
    },
    onSuccess: () => {
      setForm({ body: '', title: '', when: '', notes: '' });
      refresh();
    },
  });
  const toggle = useMutation({ mutationFn: (r: RelatedRecord) => api.patch(`/api/contacts/${contactId}/tasks/${r.id}`, { done: !r.done }), onSuccess: refresh });
  const remove = useMutation({ mutationFn: (r: RelatedRecord) => api.del(`/api/contacts/${contactId}/${kind}/${r.id}`), onSuccess: () => { setDeleting(null); refresh(); } });
  const singular = kind.slice(0, -1);
  return (
    <div>
      {canWrite && (
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate();
          }}
          noValidate
        >
          {kind === 'notes' ? (
            <Field label="New note" error={fieldError(add.error, 'body')}>
              {(p) => <textarea {...p} rows={3} value={form.body} onChange={(e) => setForm({ ...form, body: e.target.value })} />}
            </Field>
          ) : (
            <>
              <Field label="Title" error={fieldError(add.error, 'title')}>
                {(p) => <input {...p} value={form.title} onChange={(e) => setForm({ ...form, title: e.target.value })} />}
              </Field>
              <Field label={kind === 'meetings' ? 'When' : 'Due (optional)'} error={fieldError(add.error, kind === 'meetings' ? 'scheduledAt' : 'dueAt')}>
                {(p) => <input {...p} type="datetime-local" value={form.when} onChange={(e) => setForm({ ...form, when: e.target.value })} />}
              </Field>
              {kind === 'meetings' && (
                <Field label="Notes (optional)" error={fieldError(add.error, 'notes')}>
                  {(p) => <textarea {...p} rows={2} value={form.notes} onChange={(e) => setForm({ ...form, notes: e.target.value })} />}
                </Field>
              )}
            </>
          )}
          <FormError error={add.error} />
          <button type="submit" className="primary" disabled={add.isPending}>
            Add {singular}
          </button>
        </form>
      )}
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <FormError error={list.error} />
      ) : list.data.items.length === 0 ? (
        <Empty>No {kind} yet.</Empty>
      ) : (
        <ul className="records" aria-label={label(kind)}>
          {list.data.items.map((r) => (
            <li key={r.id}>
              <div className="record-main">
                {kind === 'notes' && <p className="pre">{r.body}</p>}
                {kind === 'meetings' && (
                  <p>
                    <strong>{r.title}</strong> · {formatDate(r.scheduledAt)}
                    {r.notes ? <span className="pre block">{r.notes}</span> : null}
                  </p>
                )}
                {kind === 'tasks' && (
                  <label className="inline">
                    <input type="checkbox" checked={!!r.done} disabled={!canWrite} onChange={() => toggle.mutate(r)} />
                    <span className={r.done ? 'done' : ''}>{r.title}</span>
                    {r.dueAt ? <span className="muted"> · due {formatDate(r.dueAt)}</span> : null}
                  </label>
                )}
                <small className="muted">Added {formatDate(r.createdAt)}</small>
              </div>
              {canWrite && (
                <button type="button" className="link-button danger-text" onClick={() => setDeleting(r)} aria-label={`Delete ${singular}`}>
                  Delete
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete this ${singular}?`}
        confirmLabel={`Delete ${singular}`}
        busy={remove.isPending}
        error={remove.error}
        onCancel={() => setDeleting(null)}
        onConfirm={() => deleting && remove.mutate(deleting)}
      >
        <p>The {singular} is removed for good. This cannot be undone.</p>
      </ConfirmDialog>
    </div>
  );
}

interface Application {
  id: string;
  formId?: string;
  createdAt: string;
  [extra: string]: unknown;
}

function Applications({ contactId }: { contactId: string }) {
  const list = useQuery({ queryKey: ['applications', contactId], queryFn: () => api.get<{ items: Application[] }>(`/api/contacts/${contactId}/applications`) });
  if (list.isPending) return <Loading />;
  if (list.isError) return <FormError error={list.error} />;
  if (list.data.items.length === 0) return <Empty>No applications.</Empty>;
  return (
    <ul className="records">
      {list.data.items.map((a) => (
        <li key={a.id}>
          <div className="record-main">
            <strong>Application</strong> · {formatDate(a.createdAt)}
            {typeof a.status === 'string' ? <span className="muted"> · {label(a.status)}</span> : null}
          </div>
        </li>
      ))}
    </ul>
  );
}
