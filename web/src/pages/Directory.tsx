import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { api, type Query } from '../api.ts';
import { Badge, Field, FormError, fieldError, formatDate } from '../components.tsx';
import { Link, navigate } from '../router.tsx';
import { useCan } from '../session.ts';
import type { AttributeDefinition, Contact, ContactRow, Organization, Page } from '../types.ts';
import { BulkActions } from './directory/BulkActions.tsx';

export interface Filters {
  q: string;
  approvalStatus: string;
  lifecycle: string;
  optInStatus: string;
  visibility: string;
  source: string;
  organizationId: string;
  createdFrom: string;
  createdTo: string;
  sort: string;
  order: string;
  attrs: Record<string, string>;
}

const EMPTY: Filters = { q: '', approvalStatus: '', lifecycle: '', optInStatus: '', visibility: '', source: '', organizationId: '', createdFrom: '', createdTo: '', sort: 'createdAt', order: 'desc', attrs: {} };
const PAGE_SIZE = 100;
const ROW_HEIGHT = 44;
// Filters live in memory and this tab's session storage, never in the URL: searches hold names and emails.
const STATE_KEY = 'lethe.directory.filters';
const VIEWS_KEY = 'lethe.directory.views';

function toQuery(f: Filters): Query {
  const query: Query = {
    q: f.q.trim(),
    approvalStatus: f.approvalStatus,
    lifecycle: f.lifecycle,
    optInStatus: f.optInStatus,
    visibility: f.visibility,
    source: f.source,
    organizationId: f.organizationId,
    createdFrom: f.createdFrom ? new Date(`${f.createdFrom}T00:00:00`).toISOString() : '',
    createdTo: f.createdTo ? new Date(`${f.createdTo}T23:59:59`).toISOString() : '',
    sort: f.sort,
    order: f.order,
    limit: PAGE_SIZE,
  };
  for (const [key, value] of Object.entries(f.attrs)) if (value !== '') query[key] = value;
  return query;
}

function loadState(): Filters {
  try {
    return { ...EMPTY, ...JSON.parse(sessionStorage.getItem(STATE_KEY) ?? '{}') };
  } catch {
    return EMPTY;
  }
}

function loadViews(): Record<string, Filters> {
  try {
    return JSON.parse(localStorage.getItem(VIEWS_KEY) ?? '{}');
  } catch {
    return {};
  }
}

export function Directory() {
  const [filters, setFilters] = useState<Filters>(loadState);
  const [creating, setCreating] = useState(false);
  const [views, setViews] = useState(loadViews);
  // Typing settles after a pause (a request per keystroke would be wasted); a choice from a list,
  // a saved view or "Clear filters" applies at once.
  const [debounced, setSettled] = useState<Filters>(filters);
  useEffect(() => {
    const t = setTimeout(() => setSettled(filters), 250);
    return () => clearTimeout(t);
  }, [filters]);
  useEffect(() => sessionStorage.setItem(STATE_KEY, JSON.stringify(filters)), [filters]);
  const canWrite = useCan('contacts.write');
  const canDelete = useCan('contacts.delete');
  const canBulk = canWrite || canDelete;

  const attributes = useQuery({ queryKey: ['attributes'], queryFn: () => api.get<{ items: AttributeDefinition[] }>('/api/attributes') });
  const organizations = useQuery({ queryKey: ['organizations'], queryFn: () => api.get<{ items: Organization[] }>('/api/organizations').catch(() => ({ items: [] as Organization[] })) });
  const orgName = useMemo(() => new Map((organizations.data?.items ?? []).map((o) => [o.id, o.name])), [organizations.data]);

  const query = toQuery(debounced);
  const contacts = useInfiniteQuery({
    queryKey: ['contacts', query],
    queryFn: ({ pageParam }) => api.get<Page<ContactRow>>('/api/contacts', { ...query, after: pageParam ?? undefined }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    placeholderData: (previous) => previous,
  });
  const rows = useMemo(() => contacts.data?.pages.flatMap((p) => p.items) ?? [], [contacts.data]);

  const apply = (next: Filters, now: boolean) => {
    setFilters(next);
    if (now) setSettled(next);
  };
  const set = (patch: Partial<Filters>, now = true) => apply({ ...filters, ...patch }, now);
  const setAttr = (key: string, value: string, now: boolean) => apply({ ...filters, attrs: { ...filters.attrs, [key]: value } }, now);
  const saveView = () => {
    const name = window.prompt('Name this view (saved in this browser)');
    if (!name) return;
    const next = { ...views, [name]: filters };
    localStorage.setItem(VIEWS_KEY, JSON.stringify(next));
    setViews(next);
  };

  return (
    <section className="directory">
      <div className="page-head">
        <h1>Contacts</h1>
        {canWrite && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New contact
          </button>
        )}
      </div>
      <form className="filters" role="search" aria-label="Filter contacts" onSubmit={(e) => e.preventDefault()}>
        <Field label="Search">
          {(p) => <input {...p} type="search" name="q" placeholder="Name, email or phone" value={filters.q} onChange={(e) => set({ q: e.target.value }, false)} />}
        </Field>
        <Select label="Approval status" name="approvalStatus" value={filters.approvalStatus} onChange={(v) => set({ approvalStatus: v })} options={['pending', 'approved', 'rejected']} />
        <Select label="Record" name="lifecycle" value={filters.lifecycle} onChange={(v) => set({ lifecycle: v })} options={['disabled', 'any']} anyLabel="Active" />
        <Select label="Opt-in" name="optInStatus" value={filters.optInStatus} onChange={(v) => set({ optInStatus: v })} options={['unknown', 'opted_in', 'opted_out']} />
        <Select label="Visibility" name="visibility" value={filters.visibility} onChange={(v) => set({ visibility: v })} options={['everyone', 'staff_only', 'owner_only']} />
        <Select label="Source" name="source" value={filters.source} onChange={(v) => set({ source: v })} options={['self_signup', 'application', 'manual', 'bulk_import', 'api']} />
        {(organizations.data?.items.length ?? 0) > 1 && (
          <Field label="Organization">
            {(p) => (
              <select {...p} name="organizationId" value={filters.organizationId} onChange={(e) => set({ organizationId: e.target.value })}>
                <option value="">Any</option>
                {organizations.data!.items.map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        <Field label="Created from">{(p) => <input {...p} type="date" name="createdFrom" value={filters.createdFrom} onChange={(e) => set({ createdFrom: e.target.value })} />}</Field>
        <Field label="Created to">{(p) => <input {...p} type="date" name="createdTo" value={filters.createdTo} onChange={(e) => set({ createdTo: e.target.value })} />}</Field>
        {attributes.data?.items.map((a) => <AttributeFilter key={a.id} definition={a} values={filters.attrs} onChange={setAttr} />)}
        <Field label="Sort by">
          {(p) => (
            <select {...p} value={`${filters.sort}:${filters.order}`} onChange={(e) => { const [sort, order] = e.target.value.split(':'); set({ sort, order }); }}>
              <option value="createdAt:desc">Newest first</option>
              <option value="createdAt:asc">Oldest first</option>
              <option value="lastName:asc">Last name A–Z</option>
              <option value="lastName:desc">Last name Z–A</option>
              <option value="firstName:asc">First name A–Z</option>
            </select>
          )}
        </Field>
        <div className="filter-actions">
          <button type="button" onClick={() => apply(EMPTY, true)}>
            Clear filters
          </button>
          <button type="button" onClick={saveView}>
            Save view
          </button>
          {Object.keys(views).length > 0 && (
            <Field label="Saved views">
              {(p) => (
                <select {...p} value="" onChange={(e) => e.target.value && apply({ ...EMPTY, ...views[e.target.value] }, true)}>
                  <option value="">Choose…</option>
                  {Object.keys(views).map((name) => (
                    <option key={name}>{name}</option>
                  ))}
                </select>
              )}
            </Field>
          )}
        </div>
      </form>
      <FormError error={contacts.error} />
      <p className="result-count" role="status" aria-live="polite">
        {contacts.isPending ? 'Loading…' : `${rows.length}${contacts.hasNextPage ? '+' : ''} contact${rows.length === 1 ? '' : 's'}`}
        {contacts.isFetching && !contacts.isPending ? ' · updating…' : ''}
      </p>
      {canBulk && <BulkActions filters={debounced} />}
      <ContactTable rows={rows} orgName={orgName} hasMore={!!contacts.hasNextPage} loadingMore={contacts.isFetchingNextPage} loadMore={() => contacts.fetchNextPage()} />
      {creating && <NewContactDialog onClose={() => setCreating(false)} />}
    </section>
  );
}

function Select({ label, name, value, onChange, options, anyLabel = 'Any' }: { label: string; name: string; value: string; onChange: (v: string) => void; options: string[]; anyLabel?: string }) {
  return (
    <Field label={label}>
      {(p) => (
        <select {...p} name={name} value={value} onChange={(e) => onChange(e.target.value)}>
          <option value="">{anyLabel}</option>
          {options.map((o) => (
            <option key={o} value={o}>
              {o === 'disabled' ? 'disabled (soft-deleted)' : o.replace(/_/g, ' ')}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

function AttributeFilter({ definition: a, values, onChange }: { definition: AttributeDefinition; values: Record<string, string>; onChange: (key: string, value: string, now: boolean) => void }) {
  const k = `attr.${a.key}`;
  if (a.type === 'choice' || a.type === 'boolean') {
    const options = a.type === 'boolean' ? ['true', 'false'] : (a.options ?? []);
    return (
      <Field label={a.label}>
        {(p) => (
          <select {...p} name={k} value={values[k] ?? ''} onChange={(e) => onChange(k, e.target.value, true)}>
            <option value="">Any</option>
            {options.map((o) => (
              <option key={o} value={o}>
                {a.type === 'boolean' ? (o === 'true' ? 'Yes' : 'No') : o}
              </option>
            ))}
          </select>
        )}
      </Field>
    );
  }
  if (a.type === 'number' || a.type === 'date') {
    const type = a.type === 'number' ? 'number' : 'date';
    return (
      <>
        <Field label={`${a.label} from`}>{(p) => <input {...p} type={type} name={`${k}.gte`} value={values[`${k}.gte`] ?? ''} onChange={(e) => onChange(`${k}.gte`, e.target.value, false)} />}</Field>
        <Field label={`${a.label} to`}>{(p) => <input {...p} type={type} name={`${k}.lte`} value={values[`${k}.lte`] ?? ''} onChange={(e) => onChange(`${k}.lte`, e.target.value, false)} />}</Field>
      </>
    );
  }
  return <Field label={a.label}>{(p) => <input {...p} name={k} value={values[k] ?? ''} onChange={(e) => onChange(k, e.target.value, false)} />}</Field>;
}

/** Only the visible rows are in the DOM, so the table stays fast however far one scrolls. */
function ContactTable({ rows, orgName, hasMore, loadingMore, loadMore }: { rows: ContactRow[]; orgName: Map<string, string>; hasMore: boolean; loadingMore: boolean; loadMore: () => void }) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 12 });
  const items = virtualizer.getVirtualItems();
  const last = items.at(-1);
  useEffect(() => {
    if (last && hasMore && !loadingMore && last.index >= rows.length - 20) loadMore();
  }, [last?.index, hasMore, loadingMore, rows.length]);
  return (
    <div className="table-wrap">
      <div role="table" aria-label="Contacts" aria-rowcount={rows.length + 1} className="vtable">
        <div role="rowgroup">
          <div role="row" className="vrow vhead">
            <span role="columnheader">Name</span>
            <span role="columnheader">Email</span>
            <span role="columnheader">Mobile</span>
            <span role="columnheader">Organization</span>
            <span role="columnheader">Status</span>
            <span role="columnheader">Opt-in</span>
            <span role="columnheader">Created</span>
          </div>
        </div>
        <div ref={scroller} className="vbody" role="rowgroup" data-testid="contact-rows">
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {items.map((item) => {
              const c = rows[item.index];
              return (
                <div role="row" aria-rowindex={item.index + 2} key={c.id} className="vrow" style={{ position: 'absolute', top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${item.start}px)` }}>
                  <span role="cell">
                    <Link to={`/contacts/${c.id}`}>
                      {c.lastName}, {c.firstName}
                    </Link>
                  </span>
                  <span role="cell" className="truncate">{c.email ?? '—'}</span>
                  <span role="cell">{c.mobilePhone ?? '—'}</span>
                  <span role="cell" className="truncate">{(c.organizationId && orgName.get(c.organizationId)) || '—'}</span>
                  <span role="cell">
                    <Badge value={c.approvalStatus} />
                  </span>
                  <span role="cell">{c.optInStatus.replace(/_/g, ' ')}</span>
                  <span role="cell">{formatDate(c.createdAt)}</span>
                </div>
              );
            })}
          </div>
        </div>
      </div>
      {rows.length === 0 && <p className="empty">No contacts match these filters.</p>}
      {hasMore && (
        <button type="button" className="load-more" onClick={loadMore} disabled={loadingMore}>
          {loadingMore ? 'Loading more…' : 'Load more'}
        </button>
      )}
    </div>
  );
}

function NewContactDialog({ onClose }: { onClose: () => void }) {
  const queryClient = useQueryClient();
  const ref = useRef<HTMLDialogElement>(null);
  const [form, setForm] = useState({ firstName: '', lastName: '', email: '', mobilePhone: '' });
  useEffect(() => ref.current?.showModal(), []);
  const create = useMutation({
    mutationFn: () =>
      api.post<Contact>('/api/contacts', {
        firstName: form.firstName,
        lastName: form.lastName,
        email: form.email || null,
        mobilePhone: form.mobilePhone || null,
      }),
    onSuccess: (contact) => {
      queryClient.invalidateQueries({ queryKey: ['contacts'] });
      onClose();
      navigate(`/contacts/${contact.id}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const input = (name: keyof typeof form, label: string, type = 'text') => (
    <Field label={label} error={fieldError(create.error, name)}>
      {(p) => <input {...p} name={name} type={type} value={form[name]} onChange={(e) => setForm({ ...form, [name]: e.target.value })} />}
    </Field>
  );
  return (
    <dialog ref={ref} className="dialog" aria-labelledby="new-contact-title" onCancel={onClose}>
      <form onSubmit={submit} noValidate>
        <h2 id="new-contact-title">New contact</h2>
        {input('firstName', 'First name')}
        {input('lastName', 'Last name')}
        {input('email', 'Email', 'email')}
        {input('mobilePhone', 'Mobile phone', 'tel')}
        <FormError error={create.error} />
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={create.isPending}>
            Create contact
          </button>
        </div>
      </form>
    </dialog>
  );
}
