import type { FastifyReply, FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import type { AppContext } from '../context.ts';
import type { PlatformRole } from '../db/schema.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { forbidden, NO_SITE_ACCESS, Problem } from '../http/problem.ts';
import { permissionsOfRole, platformRolePermissions, type Permission } from './permissions.ts';
import { csrfTokenFor, hashSecretToken } from './secret-tokens.ts';
import { compiledOnce } from '../db/compiled-once.ts';

export const SESSION_COOKIE = 'lethe_session';
export const INSTITUTION_HEADER = 'x-lethe-institution';

export interface AuthUser {
  id: string;
  institutionId: string | null;
  organizationId: string | null;
  name: string;
  roleId: string | null;
  roleKey: string | null;
  platformRole: PlatformRole | null;
}

export interface AuthContext {
  user: AuthUser;
  /** the tenant this request acts in; for platform users, the one named in X-Lethe-Institution */
  institutionId: string | null;
  permissions: Set<Permission>;
  actor: Actor;
  via: 'session' | 'token';
  sessionToken?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function actorOf(userId: string): Actor {
  return { userId, label: `user:${userId}` };
}

/** Loads the user, role and permissions behind a credential, refusing switched-off users. */
/** The user and role columns every credential resolves to, read in the credential's own look-up. */
const authUserColumns = [
  'users.id',
  'users.institution_id',
  'users.organization_id',
  'users.name',
  'users.role_id',
  'users.platform_role',
  'users.site_access',
  'roles.key as role_key',
  'roles.builtin as role_builtin',
  'roles.permissions as role_permissions',
] as const;

interface AuthUserRow {
  id: string;
  institution_id: string | null;
  organization_id: string | null;
  name: string;
  role_id: string | null;
  platform_role: AuthUser['platformRole'];
  site_access: number;
  role_key: string | null;
  role_builtin: number | null;
  role_permissions: string | null;
}

/** The caller and their permissions; a user whose site access is off is refused here, on every request. */
function authUserFrom(row: AuthUserRow): { user: AuthUser; permissions: Set<Permission> } {
  if (!row.site_access) throw new Problem(403, NO_SITE_ACCESS);
  const permissions = row.platform_role
    ? new Set(platformRolePermissions[row.platform_role])
    : row.role_key
      ? permissionsOfRole({ builtin: row.role_builtin ?? 0, key: row.role_key, permissions: row.role_permissions ?? '[]' })
      : new Set<Permission>();
  return {
    user: {
      id: row.id,
      institutionId: row.institution_id,
      organizationId: row.organization_id,
      name: row.name,
      roleId: row.role_id,
      roleKey: row.role_key,
      platformRole: row.platform_role,
    },
    permissions,
  };
}

export async function loadAuthUser(ctx: AppContext, userId: string): Promise<{ user: AuthUser; permissions: Set<Permission> }> {
  const row = await ctx.db.selectFrom('users').leftJoin('roles', 'roles.id', 'users.role_id').select(authUserColumns).where('users.id', '=', userId).executeTakeFirst();
  if (!row) throw new Problem(401, 'Your session has ended; sign in again.');
  return authUserFrom(row);
}

// Every API request runs one of these two look-ups: they are compiled once.
const tokenAndUser = compiledOnce((db, p: { tokenHash: string }) =>
  db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .leftJoin('roles', 'roles.id', 'users.role_id')
    .select([...authUserColumns, 'api_tokens.id as token_id', 'api_tokens.institution_id as token_institution_id', 'api_tokens.revoked_at', 'api_tokens.last_used_at'])
    .where('api_tokens.token_hash', '=', p.tokenHash),
);
const sessionAndUser = compiledOnce((db, p: { sessionHash: string }) =>
  db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .leftJoin('roles', 'roles.id', 'users.role_id')
    .select([...authUserColumns, 'sessions.expires_at'])
    .where('sessions.id', '=', p.sessionHash),
);

/** onRequest hook: resolves a session cookie or bearer token into request.auth (or null). */
export function authResolver(ctx: AppContext) {
  return async function resolveAuth(request: FastifyRequest): Promise<void> {
    request.auth = null;
    const header = request.headers.authorization;
    const now = ctx.clock.now().toISOString();
    if (header) {
      const match = /^Bearer\s+(lt_[A-Za-z0-9_-]{20,})$/.exec(header);
      if (!match) throw new Problem(401, 'The Authorization header must be "Bearer <API token>"; create a token with `lethe token create`.');
      // The token and its user in one look-up (every API request pays for it).
      const token = await tokenAndUser.executeTakeFirst(ctx.db, { tokenHash: hashSecretToken(ctx.secrets.tokenKey, match[1]) });
      if (!token || token.revoked_at) throw new Problem(401, 'This API token is unknown or was revoked.');
      const { user, permissions } = authUserFrom(token);
      // Writing last-use on every request would turn reads into writes; minute precision is enough.
      if (!token.last_used_at || Date.parse(now) - Date.parse(token.last_used_at) > 60_000) {
        await ctx.db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', token.token_id).execute();
      }
      request.auth = { user, permissions, institutionId: token.token_institution_id, actor: actorOf(user.id), via: 'token' };
      return;
    }
    const cookie = request.cookies?.[SESSION_COOKIE];
    if (!cookie) return;
    const session = await sessionAndUser.executeTakeFirst(ctx.db, { sessionHash: hashSecretToken(ctx.secrets.tokenKey, cookie) });
    if (!session || session.expires_at <= now) return;
    // Signing in again over a live session starts a new one and needs no CSRF value
    // (the credentials themselves are what a forged request cannot supply).
    const isSignIn = request.method === 'POST' && request.url.split('?')[0] === '/api/session';
    if (isSignIn) return;
    if (unsafeMethods.has(request.method)) {
      const sent = request.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !sameSecret(sent, csrfTokenFor(ctx.secrets.tokenKey, cookie))) {
        throw new Problem(403, 'Missing or wrong X-CSRF-Token header; read it from GET /api/session and send it with every change.');
      }
    }
    const { user, permissions } = authUserFrom(session);
    let institutionId = user.institutionId;
    if (user.platformRole) {
      const named = request.headers[INSTITUTION_HEADER];
      institutionId = typeof named === 'string' && named ? named : null;
    }
    request.auth = { user, permissions, institutionId, actor: actorOf(user.id), via: 'session', sessionToken: cookie };
  };
}

/** The signed-in caller, or 401. */
export function requireAuth(request: FastifyRequest): AuthContext {
  if (!request.auth) throw new Problem(401, 'Sign in first (POST /api/session) or send an API token.');
  return request.auth;
}

function requireInstitution(auth: AuthContext): void {
  if (!auth.institutionId) {
    throw new Problem(400, `Platform users must name the institution they act in with the ${INSTITUTION_HEADER} header.`);
  }
}

/** A platform user's reach into a tenant is audited on every request. */
async function auditPlatformReach(ctx: AppContext, request: FastifyRequest, auth: AuthContext): Promise<void> {
  if (!auth.user.platformRole || !auth.institutionId) return;
  const exists = await ctx.db.selectFrom('institutions').select('id').where('id', '=', auth.institutionId).executeTakeFirst();
  if (!exists) throw new Problem(404, 'Institution was not found.');
  await recordAudit(ctx, ctx.db, {
    institutionId: auth.institutionId,
    actor: auth.actor,
    action: 'platform.access',
    target: { type: 'institution', id: auth.institutionId },
    meta: { platformRole: auth.user.platformRole, method: request.method, route: request.routeOptions.url ?? request.url },
  });
}

/**
 * A route's preValidation for tenant routes: the caller must hold every listed permission and act
 * in an institution. It runs before the body and parameters are validated, so a caller who may not
 * use a route learns nothing from it (401/403, never a 400 describing the expected input).
 */
export function requirePermission(ctx: AppContext, ...needed: Permission[]) {
  return async function checkPermission(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const auth = requireAuth(request);
    requireInstitution(auth);
    for (const p of needed) if (!auth.permissions.has(p)) throw forbidden(`Your role does not allow this action (needs ${p}).`);
    await auditPlatformReach(ctx, request, auth);
  };
}

/** preValidation for tenant reads open to several roles: the caller needs at least one of the permissions. */
export function requireAnyPermission(ctx: AppContext, ...anyOf: Permission[]) {
  return async function checkAnyPermission(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const auth = requireAuth(request);
    requireInstitution(auth);
    if (!anyOf.some((p) => auth.permissions.has(p))) throw forbidden(`Your role does not allow this action (needs one of ${anyOf.join(', ')}).`);
    await auditPlatformReach(ctx, request, auth);
  };
}

/** The institution a tenant route acts in (after requirePermission). */
export function tenantOf(request: FastifyRequest): string {
  const auth = requireAuth(request);
  if (!auth.institutionId) throw new Problem(400, `Name the institution with the ${INSTITUTION_HEADER} header.`);
  return auth.institutionId;
}
