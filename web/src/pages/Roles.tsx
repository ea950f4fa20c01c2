import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api.ts';
import { ConfirmDialog, DataTable, Field, fieldError, FormError, Loading } from '../components.tsx';
import type { Role, Session } from '../types.ts';

const PERMISSIONS = [
  'account.self', 'contacts.read', 'contacts.write', 'contacts.see_staff_only', 'contacts.see_all_owners', 'contacts.delete', 'contacts.expunge',
  'attributes.manage', 'employers.manage', 'organizations.manage', 'users.manage', 'roles.manage', 'tokens.manage', 'audit.read', 'outbox.read',
  'imports.run', 'duplicates.manage', 'workflows.manage', 'retention.manage', 'webhooks.manage', 'exports.self', 'exports.request', 'exports.approve',
];

export function RolesPage() {
  const queryClient = useQueryClient();
  const roles = useQuery({ queryKey: ['roles'], queryFn: () => api.get<{ items: Role[] }>('/api/roles') });
  const [editing, setEditing] = useState<Role | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Role | null>(null);
  const remove = useMutation({
    mutationFn: (r: Role) => api.del(`/api/roles/${r.id}`),
    onSuccess: () => {
      setDeleting(null);
      queryClient.invalidateQueries({ queryKey: ['roles'] });
    },
  });
  return (
    <section>
      <div className="page-head">
        <h1>Roles</h1>
        <button type="button" className="primary" onClick={() => setEditing('new')}>
          New custom role
        </button>
      </div>
      {editing && <RoleForm role={editing === 'new' ? null : editing} onDone={() => setEditing(null)} />}
      {roles.isPending ? (
        <Loading />
      ) : (
        <DataTable label="Roles" columns={['Role', 'Users', 'Permissions', { hidden: 'Actions' }]} rows={roles.data?.items ?? []}>
          {(r) => (
            <tr key={r.id}>
              <td>
                {r.name} {r.builtin && <span className="badge">built-in</span>}
              </td>
              <td>{r.userCount}</td>
              <td className="perm-list">{r.permissions.length ? r.permissions.join(', ') : 'none (denied access)'}</td>
              <td>
                {!r.builtin && (
                  <div className="actions">
                    <button type="button" className="link-button" onClick={() => setEditing(r)}>
                      Edit
                    </button>
                    <button type="button" className="link-button danger-text" disabled={r.userCount > 0} title={r.userCount > 0 ? 'Move its users to another role first' : undefined} onClick={() => setDeleting(r)}>
                      Delete
                    </button>
                  </div>
                )}
              </td>
            </tr>
          )}
        </DataTable>
      )}
      <ConfirmDialog open={deleting !== null} title={`Delete the role ${deleting?.name}?`} confirmLabel="Delete role" busy={remove.isPending} error={remove.error} onCancel={() => setDeleting(null)} onConfirm={() => deleting && remove.mutate(deleting)}>
        <p>No user holds this role. It is removed; the change is written to the audit log.</p>
      </ConfirmDialog>
    </section>
  );
}

function RoleForm({ role, onDone }: { role: Role | null; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(role?.name ?? '');
  const [permissions, setPermissions] = useState<string[]>(role?.permissions ?? ['account.self']);
  const save = useMutation({
    mutationFn: () => (role ? api.patch(`/api/roles/${role.id}`, { name, permissions }) : api.post('/api/roles', { name, permissions })),
    onSuccess: () => {
      queryClient.invalidateQueries({ queryKey: ['roles'] });
      // My own permissions may have changed.
      queryClient.invalidateQueries({ queryKey: ['session'] });
      queryClient.getQueryData<Session>(['session']);
      onDone();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form className="card stack" onSubmit={submit} noValidate aria-label={role ? 'Edit role' : 'New custom role'}>
      <h2>{role ? `Edit ${role.name}` : 'New custom role'}</h2>
      <Field label="Role name" error={fieldError(save.error, 'name')}>
        {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <fieldset className="perm-grid">
        <legend>Permissions (none, or only account settings, makes a “denied access” role)</legend>
        {PERMISSIONS.map((p) => (
          <label key={p} className="inline">
            <input type="checkbox" checked={permissions.includes(p)} onChange={(e) => setPermissions(e.target.checked ? [...permissions, p] : permissions.filter((x) => x !== p))} />
            {p}
          </label>
        ))}
      </fieldset>
      <FormError error={save.error} />
      <div className="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={save.isPending}>
          {role ? 'Save role' : 'Create role'}
        </button>
      </div>
    </form>
  );
}
