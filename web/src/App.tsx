import { lazy, Suspense, useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, getActingInstitution, setActingInstitution, setCsrfToken, setUnauthorizedHandler } from './api.ts';
import { Field, FormError, Loading, fieldError } from './components.tsx';
import { Link, match, navigate, usePath } from './router.tsx';
import { SessionContext } from './session.ts';
import type { Session } from './types.ts';
import { Directory } from './pages/Directory.tsx';

const ContactPage = lazy(() => import('./pages/ContactPage.tsx').then((m) => ({ default: m.ContactPage })));
const UsersPage = lazy(() => import('./pages/Users.tsx').then((m) => ({ default: m.UsersPage })));
const RolesPage = lazy(() => import('./pages/Roles.tsx').then((m) => ({ default: m.RolesPage })));
const AuditPage = lazy(() => import('./pages/Audit.tsx').then((m) => ({ default: m.AuditPage })));
const OutboxPage = lazy(() => import('./pages/Outbox.tsx').then((m) => ({ default: m.OutboxPage })));
const JobsPage = lazy(() => import('./pages/Jobs.tsx').then((m) => ({ default: m.JobsPage })));
const ImportsPage = lazy(() => import('./pages/Imports.tsx').then((m) => ({ default: m.ImportsPage })));
const ApplyPage = lazy(() => import('./public/Apply.tsx').then((m) => ({ default: m.ApplyPage })));
const ProfilePage = lazy(() => import('./public/Profile.tsx').then((m) => ({ default: m.ProfilePage })));
const MyDataPage = lazy(() => import('./public/MyData.tsx').then((m) => ({ default: m.MyDataPage })));
const DuplicatesPage = lazy(() => import('./pages/duplicates/Duplicates.tsx').then((m) => ({ default: m.DuplicatesPage })));
const MergePage = lazy(() => import('./pages/duplicates/Merge.tsx').then((m) => ({ default: m.MergePage })));
const ExportsPage = lazy(() => import('./pages/exports/Exports.tsx').then((m) => ({ default: m.ExportsPage })));
const PrivacySettingsPage = lazy(() => import('./pages/PrivacySettings.tsx').then((m) => ({ default: m.PrivacySettingsPage })));
const WorkflowsPage = lazy(() => import('./pages/workflows/Workflows.tsx').then((m) => ({ default: m.WorkflowsPage })));
const NewWorkflowPage = lazy(() => import('./pages/workflows/NewWorkflow.tsx').then((m) => ({ default: m.NewWorkflowPage })));
const WorkflowPage = lazy(() => import('./pages/workflows/WorkflowPage.tsx').then((m) => ({ default: m.WorkflowPage })));
const RetentionPage = lazy(() => import('./pages/retention/Retention.tsx').then((m) => ({ default: m.RetentionPage })));
const RetentionRunPage = lazy(() => import('./pages/retention/RunPage.tsx').then((m) => ({ default: m.RetentionRunPage })));
const TenantPicker = lazy(() => import('./pages/TenantPicker.tsx').then((m) => ({ default: m.TenantPicker })));

async function loadSession(): Promise<Session | null> {
  try {
    const session = await api.get<Session>('/api/session');
    setCsrfToken(session.csrfToken);
    return session;
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return null;
    throw error;
  }
}

export function App() {
  const path = usePath();
  // Public pages for contacts need no staff session.
  const apply = match(/^\/apply\/([^/]+)$/, path);
  const profile = match(/^\/profile\/([^/]+)$/, path);
  const myData = match(/^\/my-data\/([^/]+)$/, path);
  if (apply || profile || myData)
    return (
      <Suspense fallback={<Loading />}>
        {apply && <ApplyPage formId={apply[0]} />}
        {profile && <ProfilePage institution={profile[0]} />}
        {myData && <MyDataPage institution={myData[0]} />}
      </Suspense>
    );
  return <Console path={path} />;
}

function Console({ path }: { path: string }) {
  const queryClient = useQueryClient();
  const session = useQuery({ queryKey: ['session'], queryFn: loadSession, staleTime: Infinity });
  useEffect(() => {
    setUnauthorizedHandler(() => {
      setCsrfToken(null);
      queryClient.setQueryData(['session'], null);
    });
  }, [queryClient]);

  if (session.isPending) return <Loading />;
  if (session.isError) return <p className="alert alert-error">The server could not be reached. Reload the page to try again.</p>;
  if (!session.data) return <LoginPage />;
  const user = session.data.user;
  return (
    <SessionContext.Provider value={user}>
      <Shell path={path} />
    </SessionContext.Provider>
  );
}

function LoginPage() {
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const signIn = useMutation({
    mutationFn: () => api.post<Session>('/api/session', { email, password }),
    onSuccess: (session) => {
      setCsrfToken(session.csrfToken);
      setActingInstitution(null);
      queryClient.clear();
      queryClient.setQueryData(['session'], session);
      if (location.pathname === '/' || location.pathname === '/login') navigate('/contacts', true);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate();
  };
  return (
    <main className="login">
      <form onSubmit={submit} className="card login-card" aria-labelledby="login-title" noValidate>
        <h1 id="login-title">Sign in to Lethe</h1>
        <Field label="Email" error={fieldError(signIn.error, 'email')}>
          {(p) => <input {...p} type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />}
        </Field>
        <Field label="Password" error={fieldError(signIn.error, 'password')}>
          {(p) => <input {...p} type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />}
        </Field>
        {signIn.error && !(signIn.error instanceof ApiError && signIn.error.errors.length) ? (
          <div className="alert alert-error" role="alert" data-testid="login-error">
            {signIn.error instanceof ApiError ? signIn.error.detail : 'The server could not be reached.'}
          </div>
        ) : null}
        <button type="submit" className="primary" disabled={signIn.isPending}>
          {signIn.isPending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

const NAV: { to: string; label: string; permission?: string | string[] }[] = [
  { to: '/contacts', label: 'Contacts', permission: 'contacts.read' },
  { to: '/imports', label: 'Imports', permission: 'imports.run' },
  { to: '/duplicates', label: 'Duplicates', permission: 'duplicates.manage' },
  { to: '/exports', label: 'Exports', permission: ['exports.self', 'exports.request', 'exports.approve'] },
  { to: '/workflows', label: 'Workflows', permission: 'workflows.manage' },
  { to: '/retention', label: 'Retention', permission: 'retention.manage' },
  { to: '/jobs', label: 'Jobs' },
  { to: '/users', label: 'Users', permission: 'users.manage' },
  { to: '/roles', label: 'Roles', permission: 'roles.manage' },
  { to: '/audit', label: 'Audit log', permission: 'audit.read' },
  { to: '/outbox', label: 'Outbox', permission: 'outbox.read' },
  { to: '/settings/privacy', label: 'Privacy settings', permission: 'retention.manage' },
];

function Shell({ path }: { path: string }) {
  const queryClient = useQueryClient();
  const session = queryClient.getQueryData<Session>(['session'])!;
  const user = session.user;
  const signOut = useMutation({
    mutationFn: () => api.del('/api/session'),
    onSettled: () => {
      setCsrfToken(null);
      setActingInstitution(null);
      queryClient.clear();
      queryClient.setQueryData(['session'], null);
      navigate('/', true);
    },
  });
  const nav = NAV.filter((n) => !n.permission || [n.permission].flat().some((p) => user.permissions.includes(p)));
  const [tenant, setTenant] = useState(getActingInstitution);
  const chooseTenant = (id: string | null) => {
    setActingInstitution(id);
    queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== 'session' });
    setTenant(id);
  };
  useEffect(() => {
    if (path === '/' || path === '/login') navigate(nav[0]?.to ?? '/account', true);
  }, [path]);
  return (
    <div className="shell">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Lethe</span>
        <nav aria-label="Main">
          <ul>
            {nav.map((n) => (
              <li key={n.to}>
                <Link to={n.to} aria-current={path.startsWith(n.to) ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="whoami">
          <span title={user.email}>{user.name}</span>
          {user.role && <span className="muted"> · {user.role.name}</span>}
          {user.platformRole && (
            <span className="muted">
              {' '}
              · {user.platformRole === 'csm' ? 'Customer success' : 'Support'}
              {tenant && (
                <button type="button" className="link-button" onClick={() => chooseTenant(null)}>
                  Switch institution
                </button>
              )}
            </span>
          )}
          <button type="button" className="link-button" onClick={() => signOut.mutate()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Loading />}>{user.platformRole && !tenant ? <TenantPicker onChoose={chooseTenant} /> : <Route path={path} />}</Suspense>
      </main>
    </div>
  );
}

function Route({ path }: { path: string }) {
  let m: string[] | null;
  if (path === '/contacts') return <Directory />;
  if ((m = match(/^\/contacts\/([^/]+)$/, path))) return <ContactPage id={m[0]} />;
  if (path === '/users') return <UsersPage />;
  if (path === '/roles') return <RolesPage />;
  if (path === '/audit') return <AuditPage />;
  if (path === '/outbox') return <OutboxPage />;
  if (path === '/jobs') return <JobsPage />;
  if (path === '/imports') return <ImportsPage />;
  if (path === '/duplicates') return <DuplicatesPage />;
  if ((m = match(/^\/duplicates\/merge\/([^/]+)\/([^/]+)$/, path))) return <MergePage survivorId={m[0]} otherId={m[1]} />;
  if (path === '/exports') return <ExportsPage />;
  if (path === '/settings/privacy') return <PrivacySettingsPage />;
  if (path === '/workflows') return <WorkflowsPage />;
  if (path === '/workflows/new') return <NewWorkflowPage />;
  if ((m = match(/^\/workflows\/new\/([a-z0-9_]+)$/, path))) return <NewWorkflowPage key={m[0]} template={m[0]} />;
  if ((m = match(/^\/workflows\/([^/]+)$/, path))) return <WorkflowPage key={m[0]} id={m[0]} />;
  if (path === '/retention') return <RetentionPage />;
  if ((m = match(/^\/retention\/runs\/([^/]+)$/, path))) return <RetentionRunPage id={m[0]} />;
  if (path === '/' || path === '/login') return <Loading />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no page here. <Link to="/contacts">Go to the contacts</Link>.
      </p>
    </section>
  );
}
