import { builtinRoles, platformRolePermissions, type Permission } from '../../src/access/permissions.ts';

type PlatformRole = keyof typeof platformRolePermissions;

/**
 * Who may call each route, in one declarative table. The authorization matrix
 * (test/authz/matrix.test.ts) derives every actor's expected allow/deny from it and the roles'
 * permission sets in src/access/permissions.ts, and fails when the app registers a route this
 * table does not name — so a new route cannot ship without someone deciding who may call it.
 *
 * Keys are `METHOD path` with fastify's path syntax (HEAD routes mirror GET and are left out).
 */
export type Rule =
  /** anyone, signed in or not: the public pages and their APIs, health, documentation */
  | { kind: 'public' }
  /** any valid credential, tenant or platform (GET /api/session) */
  | { kind: 'authenticated' }
  /** platform support and CSM only */
  | { kind: 'platform' }
  /** the caller's own account: tenant users with account.self, and platform users */
  | { kind: 'own-account' }
  /**
   * a tenant route: the caller acts in an institution (platform users name one) and holds every
   * permission in `all` and at least one in `any` (when given). Some handlers narrow that further:
   * `tenantUsersOnly` refuses platform users even when they hold the permissions, and
   * `onlyPlatform` lets through only platform users of those roles (tenant users are refused
   * whatever their permissions).
   */
  | { kind: 'tenant'; all: Permission[]; any?: Permission[]; tenantUsersOnly?: boolean; onlyPlatform?: PlatformRole[] };

const pub: Rule = { kind: 'public' };
const all = (...permissions: Permission[]): Rule => ({ kind: 'tenant', all: permissions });
const anyOf = (...permissions: Permission[]): Rule => ({ kind: 'tenant', all: [], any: permissions });
/** requirePermission() with no permission: any user acting in an institution */
const inInstitution: Rule = { kind: 'tenant', all: [] };

const read = all('contacts.read');
const write = all('contacts.read', 'contacts.write');

export const routeRules: Record<string, Rule> = {
  // Console, documentation, health: public.
  'GET /': pub,
  'GET /api/docs': pub,
  'GET /api/docs/': pub,
  'GET /api/docs/static/index.html': pub,
  'GET /api/docs/static/swagger-initializer.js': pub,
  'GET /api/docs/static/*': pub,
  'GET /api/docs/json': pub,
  'GET /api/docs/yaml': pub,
  'GET /api/openapi.json': pub,
  'GET /api/health': pub,

  // Sessions
  'POST /api/session': pub,
  'GET /api/session': { kind: 'authenticated' },
  'DELETE /api/session': pub, // signing out needs no credential; it ends the one sent, if any
  'GET /api/me': { kind: 'own-account' },
  'PATCH /api/me': { kind: 'own-account' },

  // Access
  'GET /api/users': all('users.manage'),
  'POST /api/users': all('users.manage'),
  'GET /api/users/:id': all('users.manage'),
  'PATCH /api/users/:id': all('users.manage'),
  'DELETE /api/users/:id': all('users.manage'),
  'POST /api/users/:id/access': all('users.manage'),
  'GET /api/roles': all('roles.manage'),
  'POST /api/roles': all('roles.manage'),
  'GET /api/roles/:id': all('roles.manage'),
  'PATCH /api/roles/:id': all('roles.manage'),
  'DELETE /api/roles/:id': all('roles.manage'),
  'POST /api/tokens': { kind: 'tenant', all: [], tenantUsersOnly: true }, // own tokens; others' need tokens.manage (checked in the handler)
  'GET /api/tokens': inInstitution,
  'DELETE /api/tokens/:id': inInstitution, // someone else's token without tokens.manage answers 404
  'GET /api/institution': inInstitution,
  'GET /api/organizations': anyOf('contacts.read', 'organizations.manage', 'users.manage'),
  'GET /api/organizations/:id': anyOf('contacts.read', 'organizations.manage', 'users.manage'),
  'POST /api/organizations': all('organizations.manage'),
  'PATCH /api/organizations/:id': all('organizations.manage'),
  'GET /api/platform/institutions': { kind: 'platform' },
  'GET /api/audit': all('audit.read'),
  'GET /api/outbox': all('outbox.read'),

  // Jobs
  // The list shows only jobs of kinds the caller may start; one job, and cancelling it, need that
  // kind's permission (src/jobs/job-permissions.ts): the fixture is a bulk archive (contacts.write).
  'GET /api/jobs': read,
  'GET /api/jobs/:id': write,
  'POST /api/jobs/:id/cancel': write,

  // Contacts
  'GET /api/attributes': read,
  'GET /api/attributes/:id': read,
  'POST /api/attributes': all('attributes.manage'),
  'PATCH /api/attributes/:id': all('attributes.manage'),
  'DELETE /api/attributes/:id': all('attributes.manage'),
  'GET /api/employers': read,
  'GET /api/employers/:id': read,
  'GET /api/employers/:id/contacts': read,
  'POST /api/employers': all('employers.manage'),
  'PATCH /api/employers/:id': all('employers.manage'),
  'GET /api/contacts': read,
  'POST /api/contacts': write,
  'GET /api/contacts/:id': read,
  'PATCH /api/contacts/:id': write,
  'DELETE /api/contacts/:id': all('contacts.read', 'contacts.delete'),
  'PUT /api/contacts/:id/consent': write,
  'GET /api/contacts/:id/activity': read,
  'GET /api/contacts/:id/notes': read,
  'POST /api/contacts/:id/notes': write,
  'PATCH /api/contacts/:id/notes/:recordId': write,
  'DELETE /api/contacts/:id/notes/:recordId': write,
  'GET /api/contacts/:id/meetings': read,
  'POST /api/contacts/:id/meetings': write,
  'PATCH /api/contacts/:id/meetings/:recordId': write,
  'DELETE /api/contacts/:id/meetings/:recordId': write,
  'GET /api/contacts/:id/tasks': read,
  'POST /api/contacts/:id/tasks': write,
  'PATCH /api/contacts/:id/tasks/:recordId': write,
  'DELETE /api/contacts/:id/tasks/:recordId': write,

  // Lifecycle
  'POST /api/contacts/:id/disable': write,
  'POST /api/contacts/:id/restore': write,
  'POST /api/contacts/:id/archive': write,
  'POST /api/contacts/:id/unarchive': write,
  'POST /api/contacts/:id/reject': write,
  'POST /api/contacts/:id/approve': write,
  'POST /api/contacts/:id/delete': all('contacts.read', 'contacts.delete'),
  'POST /api/contacts/:id/expunge': all('contacts.read', 'contacts.expunge'),
  'GET /api/contacts/:id/lifecycle': read,
  // Bulk: contacts.read to reach the route, then the action's own permission; the matrix sends "archive" (contacts.write).
  'POST /api/contacts/bulk/preview': write,
  'POST /api/contacts/bulk': write,
  'GET /api/lifecycle/settings': read,
  'PATCH /api/lifecycle/settings': all('retention.manage'),

  // Intake
  'GET /api/intake/settings': anyOf('duplicates.manage', 'contacts.write'),
  'PUT /api/intake/settings': all('duplicates.manage'),
  'GET /api/forms': all('duplicates.manage'),
  'POST /api/forms': all('duplicates.manage'),
  'GET /api/forms/:id': all('duplicates.manage'),
  'PUT /api/forms/:id': all('duplicates.manage'),
  'GET /api/contacts/:id/applications': read,
  'GET /api/public/forms/:formId': pub,
  'POST /api/public/forms/:formId/apply': pub,
  'POST /api/public/forms/:formId/verifications/:verificationId/verify': pub,
  'POST /api/public/forms/:formId/verifications/:verificationId/resend': pub,
  'POST /api/imports': all('imports.run'),
  'GET /api/imports': all('imports.run'),
  'GET /api/imports/:id': all('imports.run'),
  'GET /api/imports/:id/errors.csv': all('imports.run'),
  'POST /api/contacts/:id/merge/preview': all('contacts.read', 'contacts.write', 'duplicates.manage'),
  'POST /api/contacts/:id/merge': all('contacts.read', 'contacts.write', 'duplicates.manage'),
  'GET /api/possible-duplicates': all('contacts.read', 'duplicates.manage'),
  'POST /api/possible-duplicates/scan': all('contacts.read', 'duplicates.manage'),
  'POST /api/possible-duplicates/:id/dismiss': all('contacts.read', 'duplicates.manage'),

  // Projects and sequences
  'GET /api/projects': read,
  'POST /api/projects': write,
  'GET /api/projects/:id': read,
  'PATCH /api/projects/:id': write,
  'DELETE /api/projects/:id': write,
  'GET /api/projects/:id/contacts': read,
  'POST /api/projects/:id/contacts': write,
  'DELETE /api/projects/:id/contacts/:contactId': write,
  'GET /api/sequences': read,
  'POST /api/sequences': write,
  'GET /api/sequences/:id': read,
  'PATCH /api/sequences/:id': write,
  'DELETE /api/sequences/:id': write,
  'PUT /api/sequences/:id/steps': write,
  'GET /api/sequences/:id/enrollments': read,
  'POST /api/sequences/:id/enrollments': write,
  'PUT /api/sequences/:id/enrollments/:enrollmentId/steps/:position': write,
  'DELETE /api/sequences/:id/enrollments/:enrollmentId': write,

  // Exports
  'POST /api/exports': all('exports.self'),
  'GET /api/exports': anyOf('exports.self', 'exports.request', 'exports.approve'),
  'GET /api/exports/:id': anyOf('exports.self', 'exports.request', 'exports.approve'),
  'POST /api/export-requests': all('exports.request'),
  'POST /api/exports/:id/link': anyOf('exports.self', 'exports.request'),
  'GET /api/export-settings': anyOf('exports.self', 'exports.request', 'exports.approve'),
  // Export requests are decided by platform staff (seed 003); the matrix's requests are for a scaled team, which support decides.
  'POST /api/exports/:id/approve': { kind: 'tenant', all: ['exports.approve'], onlyPlatform: ['support'] },
  'POST /api/exports/:id/refuse': { kind: 'tenant', all: ['exports.approve'], onlyPlatform: ['support'] },
  'PUT /api/export-settings': { kind: 'tenant', all: ['exports.approve'], onlyPlatform: ['support'] },
  'POST /api/contacts/:id/subject-access': { kind: 'tenant', all: ['contacts.read', 'exports.approve'], tenantUsersOnly: true },
  'POST /api/public/institutions/:institution/subject-access/code': pub,
  'POST /api/public/institutions/:institution/subject-access/confirm': pub,
  'GET /exports/my-data/:institution': pub,
  'POST /exports/my-data/:institution': pub,
  'POST /exports/my-data/:institution/confirm': pub,
  'GET /exports/download/:token': pub,
  'POST /exports/download/:token': pub,

  // Self-service profile (the contact's own one-time-code session, not a staff credential)
  'POST /api/public/institutions/:institution/profile/code': pub,
  'POST /api/public/institutions/:institution/profile/session': pub,
  'DELETE /api/public/institutions/:institution/profile/session': pub,
  'POST /api/public/institutions/:institution/profile/link': pub,
  'GET /api/public/institutions/:institution/profile': pub,
  'DELETE /api/public/institutions/:institution/profile': pub,

  // Webhooks
  'GET /api/webhooks': all('webhooks.manage'),
  'POST /api/webhooks': all('webhooks.manage'),
  'GET /api/webhooks/:id': all('webhooks.manage'),
  'PATCH /api/webhooks/:id': all('webhooks.manage'),
  'DELETE /api/webhooks/:id': all('webhooks.manage'),
  'POST /api/webhooks/:id/ping': all('webhooks.manage'),
  'GET /api/webhooks/:id/deliveries': all('webhooks.manage'),

  // Retention and ticketing
  'POST /api/ticketing/orders': write,
  'GET /api/ticketing/orders/:id': read,
  'POST /api/ticketing/orders/:id/payments': write,
  'POST /api/ticketing/options': write,
  'POST /api/ticketing/options/:id/confirm': write,
  'POST /api/ticketing/waitlist': write,
  'GET /api/contacts/:id/recency': read,
  'GET /api/retention/settings': all('retention.manage'),
  'PATCH /api/retention/settings': all('retention.manage'),
  'POST /api/retention/runs': all('retention.manage'),
  'GET /api/retention/runs': all('retention.manage'),
  'GET /api/retention/runs/:id': all('retention.manage'),
  'GET /api/retention/runs/:id/report.csv': all('retention.manage'),
  'POST /api/retention/consent-renewal': all('retention.manage', 'workflows.manage'),
  'GET /api/retention/support/contacts/:id/history': { kind: 'tenant', all: ['audit.read'], onlyPlatform: ['support'] },

  // Workflows and their public pages
  'GET /api/workflows': all('workflows.manage'),
  'POST /api/workflows': all('workflows.manage'),
  'GET /api/workflows/:id': all('workflows.manage'),
  'PUT /api/workflows/:id': all('workflows.manage'),
  'POST /api/workflows/:id/pause': all('workflows.manage'),
  'POST /api/workflows/:id/resume': all('workflows.manage'),
  'POST /api/workflows/:id/enrollments': all('workflows.manage'),
  'GET /api/workflows/:id/enrollments': all('workflows.manage'),
  'GET /api/workflow-enrollments/:id': all('workflows.manage'),
  'GET /api/contacts/:id/workflow-runs': anyOf('workflows.manage', 'contacts.read'),
  'GET /api/workflow-templates': all('workflows.manage'),
  'POST /api/workflow-templates/:key': all('workflows.manage'),
  'GET /p/l/*': pub,
  'GET /p/opt-in/*': pub,
  'POST /p/opt-in/*': pub,
  'GET /p/renew/*': pub,
  'POST /p/renew/*': pub,
  'GET /p/unsubscribe/*': pub,
  'POST /p/unsubscribe/*': pub,
};

/** Routes that exist only in some builds: the built console (dist/web) adds its static files and the SPA fallback. */
export const optionalRoutes: Record<string, Rule> = {
  'GET /*': pub,
  'GET /assets/*': pub,
};

export type ActorKind = 'anonymous' | 'tenant' | 'platform' | 'switched-off';

export interface ActorSpec {
  name: string;
  kind: ActorKind;
  via: 'none' | 'session' | 'token';
  platformRole?: PlatformRole;
  permissions: ReadonlySet<Permission>;
}

const set = (list: readonly Permission[]) => new Set<Permission>(list);

/** The actors of the matrix, with the permissions src/access/permissions.ts gives them. */
export const actors: ActorSpec[] = [
  { name: 'anonymous', kind: 'anonymous', via: 'none', permissions: set([]) },
  { name: 'admin', kind: 'tenant', via: 'session', permissions: set(builtinRoles.admin.permissions) },
  { name: 'staff', kind: 'tenant', via: 'session', permissions: set(builtinRoles.staff.permissions) },
  { name: 'privacy officer', kind: 'tenant', via: 'session', permissions: set(builtinRoles.privacy_officer.permissions) },
  { name: 'employer user', kind: 'tenant', via: 'session', permissions: set(builtinRoles.employer_user.permissions) },
  { name: 'custom: account settings only', kind: 'tenant', via: 'session', permissions: set(['account.self']) },
  { name: 'switched-off staff (API token)', kind: 'switched-off', via: 'token', permissions: set(builtinRoles.staff.permissions) },
  { name: 'platform support', kind: 'platform', via: 'session', platformRole: 'support', permissions: set(platformRolePermissions.support) },
  { name: 'platform CSM', kind: 'platform', via: 'session', platformRole: 'csm', permissions: set(platformRolePermissions.csm) },
  { name: 'API token (privacy officer)', kind: 'tenant', via: 'token', permissions: set(builtinRoles.privacy_officer.permissions) },
  { name: 'API token (admin)', kind: 'tenant', via: 'token', permissions: set(builtinRoles.admin.permissions) },
];

export type Expected = { allowed: true } | { allowed: false; status: 401 | 403; detail?: string };

export const NO_SITE_ACCESS = 'You do not have access to this site.';

/** What `actor` should get from a route under `rule` at `path`. */
export function expectedFor(rule: Rule, path: string, actor: ActorSpec): Expected {
  // The auth hook resolves every credential sent to /api/*, so a switched-off user is refused
  // there on every request, public or not; pages outside /api never look at credentials.
  if (actor.kind === 'switched-off') return path.startsWith('/api/') ? { allowed: false, status: 403, detail: NO_SITE_ACCESS } : { allowed: true };
  if (rule.kind === 'public') return { allowed: true };
  if (actor.kind === 'anonymous') return { allowed: false, status: 401 };
  const deny: Expected = { allowed: false, status: 403 };
  switch (rule.kind) {
    case 'authenticated':
      return { allowed: true };
    case 'platform':
      return actor.kind === 'platform' ? { allowed: true } : deny;
    case 'own-account':
      return actor.kind === 'platform' || actor.permissions.has('account.self') ? { allowed: true } : deny;
    case 'tenant': {
      if (rule.tenantUsersOnly && actor.kind === 'platform') return deny;
      if (rule.onlyPlatform && !(actor.kind === 'platform' && actor.platformRole && rule.onlyPlatform.includes(actor.platformRole))) return deny;
      const hasAll = rule.all.every((p) => actor.permissions.has(p));
      const hasAny = !rule.any || rule.any.some((p) => actor.permissions.has(p));
      return hasAll && hasAny ? { allowed: true } : deny;
    }
  }
}
