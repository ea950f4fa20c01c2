import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { TEST_PASSWORD, type Harness } from '../support/harness.ts';
import { signIn, type BrowserSession } from '../support/sessions.ts';
import { PLATFORM_PASSWORD, platformUser } from '../support/exports.ts';
import type { ActorSpec } from './expectations.ts';
import type { Fixtures } from './fixtures.ts';

export interface Caller {
  spec: ActorSpec;
  /** Calls as this actor: sessions send the CSRF header (and platform users name the institution); tokens never do. */
  call(options: InjectOptions, opts?: { ownSession?: boolean }): Promise<LightMyRequestResponse>;
}

/** Signs in (or issues a token for) each actor of the matrix, acting in the fixtures' institution. */
export async function makeCallers(h: Harness, f: Fixtures, specs: ActorSpec[]): Promise<Caller[]> {
  const t = f.t;
  const customRole = await h.request(t.admin.token, { method: 'POST', url: '/api/roles', payload: { name: 'Account settings only', permissions: ['account.self'] } });
  if (customRole.statusCode !== 201) throw new Error(customRole.body);
  const tenantUser = async (role: Parameters<Harness['user']>[1]) => h.user(t, role);

  const sessionCaller = (spec: ActorSpec, email: string, password: string, session: BrowserSession, institutionHeader: boolean): Caller => ({
    spec,
    async call(options, opts = {}) {
      const s = opts.ownSession ? await signIn(h, email, password) : session;
      const headers = { ...(options.headers ?? {}), ...(institutionHeader ? { 'x-lethe-institution': t.institutionId } : {}) };
      return s.request({ ...options, headers });
    },
  });
  const tokenCaller = (spec: ActorSpec, token: string): Caller => ({ spec, call: (options) => h.request(token, options) });

  const out: Caller[] = [];
  for (const spec of specs) {
    switch (spec.name) {
      case 'anonymous':
        out.push({ spec, call: (options) => h.app.inject(options) });
        break;
      case 'admin':
        out.push(sessionCaller(spec, t.adminEmail, TEST_PASSWORD, await signIn(h, t.adminEmail), false));
        break;
      case 'staff':
      case 'privacy officer':
      case 'employer user':
      case 'custom: account settings only': {
        const role =
          spec.name === 'custom: account settings only'
            ? { roleId: customRole.json().id as string }
            : ({ staff: 'staff', 'privacy officer': 'privacy_officer', 'employer user': 'employer_user' } as const)[spec.name];
        const user = await tenantUser(role);
        out.push(sessionCaller(spec, user.email, TEST_PASSWORD, await signIn(h, user.email), false));
        break;
      }
      case 'switched-off staff (API token)': {
        const user = await tenantUser('staff');
        const off = await h.request(t.admin.token, { method: 'POST', url: `/api/users/${user.id}/access`, payload: { enabled: false } });
        if (off.statusCode !== 200) throw new Error(off.body);
        out.push(tokenCaller(spec, user.token));
        break;
      }
      case 'platform support':
      case 'platform CSM': {
        const p = await platformUser(h, spec.name === 'platform support' ? 'support' : 'csm');
        out.push(sessionCaller(spec, p.email, PLATFORM_PASSWORD, p.session, true));
        break;
      }
      case 'API token (privacy officer)':
        out.push(tokenCaller(spec, (await tenantUser('privacy_officer')).token));
        break;
      case 'API token (admin)':
        out.push(tokenCaller(spec, t.admin.token));
        break;
      default:
        throw new Error(`no way to make actor ${spec.name}`);
    }
  }
  return out;
}
