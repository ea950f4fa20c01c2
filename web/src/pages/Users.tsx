import { useState, type FormEvent } from 'react';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api.ts';
import { ConfirmDialog, DataTable, Empty, Field, fieldError, formatDate, FormError, Loading } from '../components.tsx';
import { useUser } from '../session.ts';
import type { Organization, Page, Role, User } from '../types.ts';

export function UsersPage() {
  const me = useUser();
  const queryClient = useQueryClient();
  const users = useInfiniteQuery({
    queryKey: ['users'],
    queryFn: ({ pageParam }) => api.get<Page<User>>('/api/users', { after: pageParam ?? undefined, limit: 200 }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });
  const roles = useQuery({ queryKey: ['roles'], queryFn: () => api.get<{ items: Role[] }>('/api/roles') });
  const [access, setAccess] = useState<User | null>(null);
  const [deleting, setDeleting] = useState<User | null>(null);
  const refresh = () => {
    queryClient.invalidateQueries({ queryKey: ['users'] });
    queryClient.invalidateQueries({ queryKey: ['roles'] });
  };
  const setSiteAccess = useMutation({
    mutationFn: (u: User) => api.post<User>(`/api/users/${u.id}/access`, { enabled: !u.siteAccess }),
    onSuccess: () => {
      setAccess(null);
      refresh();
    },
  });
  const changeRole = useMutation({ mutationFn: ({ u, role }: { u: User; role: string }) => api.patch<User>(`/api/users/${u.id}`, { role }), onSuccess: refresh });
  const remove = useMutation({
    mutationFn: (u: User) => api.del(`/api/users/${u.id}`),
    onSuccess: () => {
      setDeleting(null);
      refresh();
    },
  });
  const items = users.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section>
      <h1>Users</h1>
      <NewUser roles={roles.data?.items ?? []} onCreated={refresh} />
      <FormError error={users.error ?? changeRole.error} />
      {users.isPending ? (
        <Loading />
      ) : items.length === 0 ? (
        <Empty>No users.</Empty>
      ) : (
        <DataTable label="Users" columns={['Name', 'Email', 'Role', 'Can access this site', 'Created', { hidden: 'Actions' }]} rows={items}>
          {(u) => (
            <tr key={u.id} data-user={u.email}>
              <td>{u.name}</td>
              <td>{u.email}</td>
              <td>
                {u.platformRole ? (
                  u.platformRole
                ) : (
                  <select aria-label={`Role of ${u.name}`} value={u.role?.id ?? ''} disabled={u.id === me.id || changeRole.isPending} onChange={(e) => changeRole.mutate({ u, role: e.target.value })}>
                    {(roles.data?.items ?? []).map((r) => (
                      <option key={r.id} value={r.id}>
                        {r.name}
                      </option>
                    ))}
                  </select>
                )}
              </td>
              <td>
                <button type="button" role="switch" aria-checked={u.siteAccess} aria-label={`${u.name} can access this site`} className={`switch${u.siteAccess ? ' on' : ''}`} disabled={u.id === me.id} onClick={() => setAccess(u)}>
                  {u.siteAccess ? 'On' : 'Off'}
                </button>
              </td>
              <td>{formatDate(u.createdAt)}</td>
              <td>
                {u.id !== me.id && (
                  <button type="button" className="link-button danger-text" onClick={() => setDeleting(u)}>
                    Delete
                  </button>
                )}
              </td>
            </tr>
          )}
        </DataTable>
      )}
      {users.hasNextPage && (
        <button type="button" onClick={() => users.fetchNextPage()}>
          Load more
        </button>
      )}
      <ConfirmDialog
        open={access !== null}
        title={access?.siteAccess ? `Switch off ${access?.name}'s access?` : `Switch on ${access?.name}'s access?`}
        confirmLabel={access?.siteAccess ? 'Switch access off' : 'Switch access on'}
        danger={!!access?.siteAccess}
        busy={setSiteAccess.isPending}
        error={setSiteAccess.error}
        onCancel={() => setAccess(null)}
        onConfirm={() => access && setSiteAccess.mutate(access)}
      >
        {access?.siteAccess ? (
          <p>
            {access.name} ({access.email}) is signed out everywhere at once and sign-in is refused with “You do not have access to this site.” Their data and records stay; you can switch access back on.
          </p>
        ) : (
          <p>{access?.name} will be able to sign in again with their existing password.</p>
        )}
      </ConfirmDialog>
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete ${deleting?.name}?`}
        confirmLabel="Delete user"
        typeToConfirm="DELETE"
        busy={remove.isPending}
        error={remove.error}
        onCancel={() => setDeleting(null)}
        onConfirm={() => deleting && remove.mutate(deleting)}
      >
        <p>
          This removes {deleting?.email} with their sessions, API tokens and the personal data in their audit-log entries. It cannot be undone. To stop someone signing in but keep the account, switch their access off instead.
        </p>
      </ConfirmDialog>
    </section>
  );
}

function NewUser({ roles, onCreated }: { roles: Role[]; onCreated: () => void }) {
  const [open, setOpen] = useState(false);
  const organizations = useQuery({ queryKey: ['organizations'], queryFn: () => api.get<{ items: Organization[] }>('/api/organizations').catch(() => ({ items: [] as Organization[] })) });
  const [form, setForm] = useState({ name: '', email: '', password: '', role: 'staff', organizationId: '' });
  const create = useMutation({
    mutationFn: () => api.post<User>('/api/users', { ...form, organizationId: form.organizationId || undefined }),
    onSuccess: () => {
      setForm({ name: '', email: '', password: '', role: 'staff', organizationId: '' });
      setOpen(false);
      onCreated();
    },
  });
  if (!open)
    return (
      <button type="button" className="primary" onClick={() => setOpen(true)}>
        Add user
      </button>
    );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form className="card stack" onSubmit={submit} noValidate aria-label="Add user">
      <h2>Add user</h2>
      <Field label="Name" error={fieldError(create.error, 'name')}>{(p) => <input {...p} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />}</Field>
      <Field label="Email" error={fieldError(create.error, 'email')}>{(p) => <input {...p} type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />}</Field>
      <Field label="Initial password" hint="at least 12 characters" error={fieldError(create.error, 'password')}>
        {(p) => <input {...p} type="password" autoComplete="new-password" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} />}
      </Field>
      <Field label="Role" error={fieldError(create.error, 'role')}>
        {(p) => (
          <select {...p} value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value })}>
            {roles.map((r) => (
              <option key={r.id} value={r.key}>
                {r.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      {(organizations.data?.items.length ?? 0) > 1 && (
        <Field label="Organization" error={fieldError(create.error, 'organizationId')}>
          {(p) => (
            <select {...p} value={form.organizationId} onChange={(e) => setForm({ ...form, organizationId: e.target.value })}>
              <option value="">Default</option>
              {organizations.data!.items.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      <FormError error={create.error} />
      <div className="actions">
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create user
        </button>
      </div>
    </form>
  );
}
