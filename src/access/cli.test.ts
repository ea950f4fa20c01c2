import { Readable } from 'node:stream';
import { expect, it, vi } from 'vitest';
import { describeEachEngine, TEST_PASSWORD, TEST_SECRET, type Harness } from '../../test/support/harness.ts';
import { signIn } from '../../test/support/sessions.ts';
import { listAudit } from '../audit/audit-log.ts';
import { exitCodes } from '../cli/errors.ts';
import { main } from '../main.ts';

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `lethe …` in-process against the harness database, as an operator would from a shell. */
async function lethe(h: Harness, args: string[], opts: { env?: Record<string, string>; stdin?: string } = {}): Promise<CliRun> {
  const env: Record<string, string | undefined> = {
    LETHE_DATA_DIR: h.database.dataDir,
    LETHE_SECRET: TEST_SECRET,
    DATABASE_URL: h.database.url,
    LOG_LEVEL: 'silent',
    LETHE_USER_PASSWORD: undefined,
    ...opts.env,
  };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const stdinDescriptor = Object.getOwnPropertyDescriptor(process, 'stdin')!;
  for (const [k, v] of Object.entries(env)) v === undefined ? delete process.env[k] : (process.env[k] = v);
  if (opts.stdin !== undefined) Object.defineProperty(process, 'stdin', { value: Readable.from([Buffer.from(opts.stdin)]), configurable: true });
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    Object.defineProperty(process, 'stdin', stdinDescriptor);
    for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v);
  }
}

const withPassword = { env: { LETHE_USER_PASSWORD: 'operator chosen passphrase' } };
const login = (h: Harness, email: string, password: string) => h.request(null, { method: 'POST', url: '/api/session', payload: { email, password } });

describeEachEngine('lethe user / lethe token', (h) => {
  it('creates an institution user from LETHE_USER_PASSWORD who can then sign in', async () => {
    const t = await h.tenant();
    const slug = (await h.ctx.db.selectFrom('institutions').select('slug').where('id', '=', t.institutionId).executeTakeFirstOrThrow()).slug;
    const run = await lethe(h, ['user', 'create', '--institution', slug, '--email', 'Advisor@Example.org', '--name', 'Ada Advisor', '--role', 'staff', '--organization', 'alumni'], withPassword);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^Created user \S+ \(advisor@example\.org, role staff\) in /);
    const res = await login(h, 'advisor@example.org', 'operator chosen passphrase');
    expect(res.statusCode).toBe(200);
    expect(res.json().user).toMatchObject({ name: 'Ada Advisor', role: { key: 'staff' }, organizationId: t.organizationIds[1] });
    const [entry] = await listAudit(h.ctx, { institutionId: t.institutionId, action: 'user.create', targetId: res.json().user.id, limit: 1 });
    expect(entry.actorLabel).toBe('cli');
  });

  it('reads the password from standard input with --password-stdin', async () => {
    const t = await h.tenant();
    const run = await lethe(h, ['user', 'create', '--institution', t.institutionId, '--email', 'piped@example.org', '--name', 'Piped', '--role', 'employer_user', '--password-stdin'], {
      stdin: 'piped in passphrase\n',
    });
    expect(run.code).toBe(0);
    expect((await login(h, 'piped@example.org', 'piped in passphrase')).statusCode).toBe(200);
  });

  it('creates a platform support user with no institution', async () => {
    await h.tenant();
    const run = await lethe(h, ['user', 'create', '--platform', 'support', '--email', 'support@lethe.example', '--name', 'Sam Support'], withPassword);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Created platform support user/);
    const session = await signIn(h, 'support@lethe.example', 'operator chosen passphrase');
    expect(session.response.json().user).toMatchObject({ institutionId: null, platformRole: 'support' });
    expect((await session.request({ method: 'GET', url: '/api/platform/institutions' })).statusCode).toBe(200);
  });

  it('refuses bad flags with a message naming the flag, a usage exit code, and creates nothing', async () => {
    const t = await h.tenant();
    const base = ['user', 'create', '--email', 'x@example.org', '--name', 'X'];
    const before = await h.count('users');
    const cases: [string[], RunOpts, number, RegExp][] = [
      [base, withPassword, exitCodes.usage, /--institution <slug\|id>.*--platform/],
      [[...base, '--institution', t.institutionId, '--platform', 'csm'], withPassword, exitCodes.usage, /not both/],
      [[...base, '--platform', 'wizard'], withPassword, exitCodes.usage, /--platform must be one of support, csm/],
      [[...base, '--platform', 'csm', '--role', 'staff'], withPassword, exitCodes.usage, /--role and --organization apply to institution users only/],
      [[...base, '--institution', t.institutionId], withPassword, exitCodes.usage, /--role is required/],
      [[...base, '--institution', t.institutionId, '--role', 'wizard'], withPassword, exitCodes.usage, /--role "wizard".*admin, employer_user, privacy_officer, staff/],
      [[...base, '--institution', t.institutionId, '--role', 'staff', '--organization', 'Nope'], withPassword, exitCodes.usage, /--organization "Nope".*"Career Services"/],
      [[...base, '--institution', 'no-such-place', '--role', 'staff'], withPassword, exitCodes.notFound, /--institution: no institution has the slug or id "no-such-place"/],
      [[...base, '--institution', t.institutionId, '--role', 'staff'], {}, exitCodes.usage, /LETHE_USER_PASSWORD or pass --password-stdin/],
      [[...base, '--institution', t.institutionId, '--role', 'staff'], { env: { LETHE_USER_PASSWORD: 'short' } }, exitCodes.usage, /LETHE_USER_PASSWORD must be at least 12 characters/],
      [['user', 'create', '--email', 'not-an-email', '--name', 'X', '--platform', 'csm'], withPassword, exitCodes.usage, /--email "not-an-email" must be an email address/],
      [['user', 'create', '--name', 'X', '--platform', 'csm'], withPassword, exitCodes.usage, /required option '--email <email>'/],
      [['user', 'create', '--email', t.adminEmail, '--name', 'X', '--platform', 'csm'], withPassword, exitCodes.conflict, /already exists/],
    ];
    for (const [args, opts, code, message] of cases) {
      const run = await lethe(h, args, opts);
      expect({ args: args.join(' '), code: run.code, stdout: run.stdout }).toEqual({ args: args.join(' '), code, stdout: '' });
      expect(run.stderr).toMatch(message);
    }
    expect(await h.count('users')).toBe(before);
  });

  it('switches site access off and on by email', async () => {
    const t = await h.tenant();
    const employer = await h.user(t, 'employer_user');
    const session = await signIn(h, employer.email);
    const off = await lethe(h, ['user', 'disable', employer.email.toUpperCase()]);
    expect(off).toMatchObject({ code: 0, stdout: `Site access switched off for ${employer.email}; their sessions were ended.\n` });
    expect((await session.request({ method: 'GET', url: '/api/me' })).statusCode).toBe(401);
    const refused = await login(h, employer.email, TEST_PASSWORD);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().detail).toBe('You do not have access to this site.');
    expect((await lethe(h, ['user', 'enable', employer.email])).code).toBe(0);
    expect((await login(h, employer.email, TEST_PASSWORD)).statusCode).toBe(200);
    const unknown = await lethe(h, ['user', 'disable', 'ghost@example.org']);
    expect(unknown.code).toBe(exitCodes.notFound);
    expect(unknown.stderr).toContain('no user has the email "ghost@example.org"');
  });

  it('creates an API token, printing only the secret on standard output', async () => {
    const t = await h.tenant();
    const staff = await h.user(t, 'staff');
    const run = await lethe(h, ['token', 'create', '--user', staff.email, '--name', 'nightly import']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^lt_[A-Za-z0-9_-]{40,}\n$/);
    expect(run.stderr).toContain('shown only now');
    const me = await h.request(run.stdout.trim(), { method: 'GET', url: '/api/me' });
    expect(me.statusCode).toBe(200);
    expect(me.json().id).toBe(staff.id);
    const listed = await h.request(staff.token, { method: 'GET', url: '/api/tokens' });
    expect(listed.json().items.map((x: { name: string }) => x.name)).toContain('nightly import');

    const unknown = await lethe(h, ['token', 'create', '--user', 'ghost@example.org', '--name', 'x']);
    expect(unknown.code).toBe(exitCodes.notFound);
    const blank = await lethe(h, ['token', 'create', '--user', staff.email, '--name', '  ']);
    expect(blank.code).toBe(exitCodes.usage);
    expect(blank.stderr).toContain('--name');
  });
});

type RunOpts = { env?: Record<string, string>; stdin?: string };
