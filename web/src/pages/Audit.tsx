import { useState } from 'react';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api } from '../api.ts';
import { DataTable, Empty, Field, formatDate, FormError, Loading } from '../components.tsx';
import type { AuditEntry, Page, User } from '../types.ts';

export function AuditPage() {
  const [filters, setFilters] = useState({ action: '', actorUserId: '', targetId: '', from: '', to: '' });
  const [open, setOpen] = useState<number | null>(null);
  const users = useQuery({ queryKey: ['users', 'all'], queryFn: () => api.get<Page<User>>('/api/users', { limit: 200 }).catch(() => ({ items: [] as User[], nextCursor: null })) });
  const query = {
    action: filters.action.trim(),
    actorUserId: filters.actorUserId,
    targetId: filters.targetId.trim(),
    from: filters.from ? new Date(`${filters.from}T00:00:00`).toISOString() : '',
    to: filters.to ? new Date(`${filters.to}T23:59:59`).toISOString() : '',
    limit: 100,
  };
  const entries = useInfiniteQuery({
    queryKey: ['audit', query],
    queryFn: ({ pageParam }) => api.get<Page<AuditEntry, number>>('/api/audit', { ...query, before: pageParam ?? undefined }),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => last.nextCursor,
    placeholderData: (previous) => previous,
  });
  const items = entries.data?.pages.flatMap((p) => p.items) ?? [];
  const set = (patch: Partial<typeof filters>) => setFilters((f) => ({ ...f, ...patch }));
  return (
    <section>
      <h1>Audit log</h1>
      <form className="filters" role="search" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
        <Field label="Action" hint="e.g. contact.create">{(p) => <input {...p} name="action" value={filters.action} onChange={(e) => set({ action: e.target.value })} />}</Field>
        <Field label="Actor">
          {(p) => (
            <select {...p} name="actorUserId" value={filters.actorUserId} onChange={(e) => set({ actorUserId: e.target.value })}>
              <option value="">Anyone</option>
              {users.data?.items.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name} ({u.email})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Target id">{(p) => <input {...p} name="targetId" value={filters.targetId} onChange={(e) => set({ targetId: e.target.value })} />}</Field>
        <Field label="From">{(p) => <input {...p} type="date" value={filters.from} onChange={(e) => set({ from: e.target.value })} />}</Field>
        <Field label="To">{(p) => <input {...p} type="date" value={filters.to} onChange={(e) => set({ to: e.target.value })} />}</Field>
      </form>
      <FormError error={entries.error} />
      {entries.isPending ? (
        <Loading />
      ) : items.length === 0 ? (
        <Empty>No entries match.</Empty>
      ) : (
        <DataTable label="Audit entries" columns={['When', 'Actor', 'Action', 'Target', { hidden: 'Details' }]} rows={items}>
          {(e) => (
            <AuditRow key={e.seq} entry={e} open={open === e.seq} toggle={() => setOpen(open === e.seq ? null : e.seq)} />
          )}
        </DataTable>
      )}
      {entries.hasNextPage && (
        <button type="button" onClick={() => entries.fetchNextPage()} disabled={entries.isFetchingNextPage}>
          Older entries
        </button>
      )}
    </section>
  );
}

function AuditRow({ entry: e, open, toggle }: { entry: AuditEntry; open: boolean; toggle: () => void }) {
  return (
    <>
      <tr>
        <td>{formatDate(e.occurredAt)}</td>
        <td>{e.actorLabel}</td>
        <td>
          <code>{e.action}</code>
        </td>
        <td>
          {e.targetType}
          {e.targetId ? <span className="muted"> {e.targetId}</span> : null}
        </td>
        <td>
          <button type="button" className="link-button" aria-expanded={open} onClick={toggle}>
            {open ? 'Hide' : 'Details'}
          </button>
        </td>
      </tr>
      {open && (
        <tr className="detail-row">
          <td colSpan={5}>
            {e.shredded ? (
              <p>The personal data of this entry has been shredded (its key was destroyed).</p>
            ) : (
              <div className="grid-2">
                <div>
                  <h3>Before</h3>
                  <pre>{JSON.stringify(e.before, null, 2) ?? '—'}</pre>
                </div>
                <div>
                  <h3>After</h3>
                  <pre>{JSON.stringify(e.after, null, 2) ?? '—'}</pre>
                </div>
              </div>
            )}
            {e.meta && <pre>{JSON.stringify(e.meta, null, 2)}</pre>}
          </td>
        </tr>
      )}
    </>
  );
}
