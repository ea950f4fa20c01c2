import { useRef, useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { api } from '../api.ts';
import { Field, FormError, fieldError } from '../components.tsx';

/**
 * "Download my data" (right of access) for anyone, with no account: an address, a code sent there,
 * then a one-time link to a copy of everything held about them arrives by email. Neither step
 * says whether the address is known; the address stays out of the URL.
 */
export function MyDataPage({ institution }: { institution: string }) {
  const base = `/api/public/institutions/${encodeURIComponent(institution)}/subject-access`;
  const [email, setEmail] = useState('');
  const [code, setCode] = useState('');
  const codeInput = useRef<HTMLInputElement>(null);
  const ask = useMutation({
    mutationFn: () => api.post<{ requestId: string; detail: string }>(`${base}/code`, { email: email.trim() }),
    onSuccess: () => setTimeout(() => codeInput.current?.focus()),
  });
  const confirm = useMutation({ mutationFn: () => api.post<{ detail: string }>(`${base}/confirm`, { requestId: ask.data!.requestId, email: email.trim(), code: code.trim() }) });
  const submitEmail = (e: FormEvent) => {
    e.preventDefault();
    ask.mutate();
  };
  const submitCode = (e: FormEvent) => {
    e.preventDefault();
    confirm.mutate();
  };
  return (
    <main className="public" id="main">
      <div className="card">
        <h1>Get a copy of your data</h1>
        {confirm.isSuccess ? (
          <p className="alert alert-success" role="status">
            {confirm.data.detail}
          </p>
        ) : !ask.isSuccess ? (
          <form className="stack" onSubmit={submitEmail} noValidate>
            <p>Enter your email address. If we hold data about it, we send a code there; with that code you receive a one-time link to a copy of all your data.</p>
            <Field label="Email address" error={fieldError(ask.error, 'email')}>
              {(p) => <input {...p} type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />}
            </Field>
            <FormError error={ask.error} />
            <button type="submit" className="primary" disabled={ask.isPending}>
              Send me a code
            </button>
          </form>
        ) : (
          <form className="stack" onSubmit={submitCode} noValidate>
            <p className="alert alert-info" role="status">
              {ask.data.detail}
            </p>
            <Field label="Code from the email" hint="6 digits" error={fieldError(confirm.error, 'code')}>
              {(p) => <input {...p} ref={codeInput} inputMode="numeric" autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.target.value)} />}
            </Field>
            <FormError error={confirm.error} />
            <button type="submit" className="primary" disabled={confirm.isPending}>
              Send me my data
            </button>
          </form>
        )}
      </div>
    </main>
  );
}
