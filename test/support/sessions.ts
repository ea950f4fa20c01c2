import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { TEST_PASSWORD, type Harness } from './harness.ts';

export interface BrowserSession {
  cookie: string;
  csrfToken: string;
  response: LightMyRequestResponse;
  /** a request as the console makes it: session cookie, plus the CSRF header on changes */
  request(options: InjectOptions, opts?: { csrf?: boolean }): Promise<LightMyRequestResponse>;
}

/** Signs in through POST /api/session like the console does; throws when sign-in fails. */
export async function signIn(h: Harness, email: string, password = TEST_PASSWORD): Promise<BrowserSession> {
  const response = await h.request(null, { method: 'POST', url: '/api/session', payload: { email, password } });
  if (response.statusCode !== 200) throw new Error(`sign-in failed: ${response.statusCode} ${response.body}`);
  const cookie = response.cookies.find((c) => c.name === 'lethe_session')!.value;
  const csrfToken = response.json().csrfToken as string;
  return {
    cookie,
    csrfToken,
    response,
    request: (options, opts = {}) =>
      h.app.inject({
        ...options,
        cookies: { lethe_session: cookie },
        headers: { ...(options.headers ?? {}), ...(opts.csrf === false ? {} : { 'x-csrf-token': csrfToken }) },
      } as InjectOptions),
  };
}
