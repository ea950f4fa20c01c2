import { useEffect, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError } from '../api.ts';
import { ConfirmDialog, FormError, Loading, formatDate, label } from '../components.tsx';
import type { OwnProfile } from '../types.ts';
import { EmailCodeSteps } from './EmailCodeSteps.tsx';

/**
 * A contact's own profile (seed 000): sign in with a code emailed to the address (or the magic
 * link in that email), see what is held, and "Delete Account". The session is an httpOnly cookie;
 * the address never appears in the URL, and the magic link's token is taken out of it at once.
 */
export function ProfilePage({ institution }: { institution: string }) {
  const base = `/api/public/institutions/${encodeURIComponent(institution)}/profile`;
  const queryClient = useQueryClient();
  const [linkToken] = useState(() => new URLSearchParams(location.hash.slice(1)).get('link'));
  const [deleted, setDeleted] = useState<{ outcome: 'disabled' | 'expunged'; confirmationEmail: boolean } | null>(null);
  const byLink = useMutation({ mutationFn: (token: string) => api.post(`${base}/link`, { token }), onSettled: () => queryClient.invalidateQueries({ queryKey: ['own-profile', institution] }) });
  useEffect(() => {
    if (!linkToken) return;
    history.replaceState(null, '', location.pathname); // the token leaves the address bar and history
    byLink.mutate(linkToken);
  }, [linkToken]);
  const profile = useQuery({
    queryKey: ['own-profile', institution],
    queryFn: async () => {
      try {
        return await api.get<OwnProfile>(base);
      } catch (error) {
        if (error instanceof ApiError && (error.status === 401 || error.status === 404)) return null;
        throw error;
      }
    },
    enabled: !deleted && (!linkToken || !byLink.isIdle) && !byLink.isPending,
    retry: false,
  });

  let body;
  if (deleted) body = <Deleted result={deleted} />;
  else if (byLink.isPending || profile.isPending) body = <Loading />;
  else if (profile.isError) body = <FormError error={profile.error} />;
  else if (profile.data) body = <OwnProfileView base={base} profile={profile.data} onDeleted={setDeleted} onSignedOut={() => queryClient.setQueryData(['own-profile', institution], null)} />;
  else
    body = (
      <>
        {byLink.isError && (
          <p className="alert alert-error" role="alert">
            {byLink.error instanceof ApiError ? byLink.error.detail : 'The link could not be used.'} You can ask for a new code below.
          </p>
        )}
        <SignIn base={base} onSignedIn={() => queryClient.invalidateQueries({ queryKey: ['own-profile', institution] })} />
      </>
    );
  return (
    <main className="public" id="main">
      <div className="card">{body}</div>
    </main>
  );
}

function SignIn({ base, onSignedIn }: { base: string; onSignedIn: () => void }) {
  return (
    <>
      <h1>Your profile</h1>
      <EmailCodeSteps
        intro="Enter the email address of your profile. We will send a code there to open it; nothing else is needed."
        sentNote="The email also has a link that opens your profile directly."
        confirmLabel="Open my profile"
        askCode={(email) => api.post<{ detail: string }>(`${base}/code`, { email })}
        confirmCode={(email, code) => api.post(`${base}/session`, { email, code })}
        onConfirmed={onSignedIn}
        allowOtherAddress
      />
    </>
  );
}

function OwnProfileView({ base, profile: p, onDeleted, onSignedOut }: { base: string; profile: OwnProfile; onDeleted: (r: { outcome: 'disabled' | 'expunged'; confirmationEmail: boolean }) => void; onSignedOut: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation({ mutationFn: () => api.del<{ outcome: 'disabled' | 'expunged'; confirmationEmail: boolean }>(base), onSuccess: onDeleted });
  const signOut = useMutation({ mutationFn: () => api.del(`${base}/session`), onSettled: onSignedOut });
  const expunge = p.deleteAccount === 'expunge';
  return (
    <>
      <h1 tabIndex={-1} ref={(h) => h?.focus()}>
        {p.firstName} {p.lastName}
      </h1>
      <dl className="facts">
        <dt>Email</dt>
        <dd>{p.email ?? '—'}</dd>
        <dt>Mobile phone</dt>
        <dd>{p.mobilePhone ?? '—'}</dd>
        <dt>Employer</dt>
        <dd>{p.employer ?? '—'}</dd>
        <dt>Email from us</dt>
        <dd>{p.optInStatus === 'opted_in' ? 'You opted in' : p.optInStatus === 'opted_out' ? 'You opted out' : 'Not asked yet'}</dd>
        {Object.entries(p.authorizations).map(([key, a]) => (
          <div key={key} className="contents">
            <dt>{label(key)}</dt>
            <dd>
              {a.granted ? 'Yes' : 'No'} <span className="muted">(since {formatDate(a.updatedAt)})</span>
            </dd>
          </div>
        ))}
        <dt>Profile created</dt>
        <dd>{formatDate(p.createdAt)}</dd>
      </dl>
      <div className="actions" style={{ marginTop: '1rem' }}>
        <button type="button" onClick={() => signOut.mutate()}>
          Sign out
        </button>
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Delete Account
        </button>
      </div>
      <ConfirmDialog
        open={confirming}
        title="Delete your account?"
        confirmLabel="Delete my account"
        typeToConfirm={expunge ? 'DELETE' : undefined}
        busy={remove.isPending}
        error={remove.error}
        onCancel={() => setConfirming(false)}
        onConfirm={() => remove.mutate()}
      >
        {expunge ? (
          <p>
            Your profile and everything attached to it is <strong>erased permanently</strong>. We send a confirmation to {p.email ?? 'your address'} before the address itself is destroyed. This
            cannot be undone.
          </p>
        ) : (
          <p>
            Your profile is disabled: it is hidden, and you receive no more email from us. Nothing else changes; the organisation can restore it if you ask them to. To have your data erased for
            good, ask the organisation.
          </p>
        )}
      </ConfirmDialog>
    </>
  );
}

function Deleted({ result }: { result: { outcome: 'disabled' | 'expunged'; confirmationEmail: boolean } }) {
  return (
    <>
      <h1 tabIndex={-1} ref={(h) => h?.focus()}>
        Your account is deleted
      </h1>
      <p className="alert alert-success" role="status">
        {result.outcome === 'expunged'
          ? `Your data has been erased permanently.${result.confirmationEmail ? ' A confirmation is on its way to your email address.' : ''}`
          : 'Your profile is disabled: it is hidden and you will receive no more email from us.'}
      </p>
    </>
  );
}
