/**
 * Roles are sets of these permissions. Built-in roles take theirs from this file (so new
 * features reach existing institutions without a data migration); custom roles store a chosen set.
 */
export const permissions = [
  'account.self',
  'contacts.read',
  'contacts.write',
  'contacts.see_staff_only',
  'contacts.see_all_owners',
  'contacts.delete',
  'contacts.expunge',
  'attributes.manage',
  'employers.manage',
  'organizations.manage',
  'users.manage',
  'roles.manage',
  'tokens.manage',
  'audit.read',
  'outbox.read',
  'imports.run',
  'duplicates.manage',
  'workflows.manage',
  'retention.manage',
  'webhooks.manage',
  'exports.self',
  'exports.request',
  'exports.approve',
] as const;
export type Permission = (typeof permissions)[number];

export const builtinRoleKeys = ['admin', 'staff', 'privacy_officer', 'employer_user'] as const;
export type BuiltinRoleKey = (typeof builtinRoleKeys)[number];

export const builtinRoles: Record<BuiltinRoleKey, { name: string; permissions: readonly Permission[] }> = {
  admin: { name: 'Administrator', permissions },
  staff: {
    name: 'Staff',
    permissions: ['account.self', 'contacts.read', 'contacts.write', 'contacts.see_staff_only', 'employers.manage', 'imports.run', 'exports.self'],
  },
  privacy_officer: {
    name: 'Privacy officer',
    permissions: [
      'account.self',
      'contacts.read',
      'contacts.see_staff_only',
      'contacts.see_all_owners',
      'contacts.delete',
      'contacts.expunge',
      'audit.read',
      'outbox.read',
      'retention.manage',
      'exports.approve',
    ],
  },
  employer_user: { name: 'Employer user', permissions: ['account.self', 'contacts.read'] },
};

/** Platform staff of a hosted deployment: they act inside a tenant only by naming it, and every such request is audited. */
export const platformRolePermissions: Record<'support' | 'csm', readonly Permission[]> = {
  support: ['contacts.read', 'contacts.see_staff_only', 'contacts.see_all_owners', 'audit.read', 'users.manage', 'exports.approve'],
  csm: ['contacts.read', 'audit.read', 'exports.approve'],
};

export function permissionsOfRole(role: { builtin: number; key: string; permissions: string }): Set<Permission> {
  if (role.builtin && role.key in builtinRoles) return new Set(builtinRoles[role.key as BuiltinRoleKey].permissions);
  const stored = JSON.parse(role.permissions) as string[];
  return new Set(stored.filter((p): p is Permission => (permissions as readonly string[]).includes(p)));
}
