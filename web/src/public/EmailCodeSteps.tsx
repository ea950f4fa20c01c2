import { useRef, useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { Field, FormError, fieldError } from '../components.tsx';

/**
 * The two steps every public page that proves an address takes: the address, then the code sent
 * there. The address stays in memory (never in the URL); focus moves to the code once it is sent.
 */
export function EmailCodeSteps<Sent extends { detail: string }, Result>({
  intro,
  sentNote = '',
  confirmLabel,
  askCode,
  confirmCode,
  onConfirmed,
  allowOtherAddress = false,
}: {
  intro: string;
  /** said after the server's "code sent" message */
  sentNote?: string;
  confirmLabel: string;
  askCode: (email: string) => Promise<Sent>;
  confirmCode: (email: string, code: string, sent: Sent) => Promise<Result>;
  onConfirmed: (result: Result) => void;
  allowOtherAddress?: boolean;
}) {
  const [email, setEmail] = useState('');
  const [code, setCode] = useState('');
  const codeInput = useRef<HTMLInputElement>(null);
  const ask = useMutation({ mutationFn: () => askCode(email.trim()), onSuccess: () => setTimeout(() => codeInput.current?.focus()) });
  const confirm = useMutation({ mutationFn: () => confirmCode(email.trim(), code.trim(), ask.data!), onSuccess: onConfirmed });
  const submit = (step: { mutate: () => void }) => (e: FormEvent) => {
    e.preventDefault();
    step.mutate();
  };
  if (!ask.isSuccess)
    return (
      <form className="stack" onSubmit={submit(ask)} noValidate>
        <p>{intro}</p>
        <Field label="Email address" error={fieldError(ask.error, 'email')}>
          {(p) => <input {...p} type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />}
        </Field>
        <FormError error={ask.error} />
        <button type="submit" className="primary" disabled={ask.isPending}>
          Send me a code
        </button>
      </form>
    );
  return (
    <form className="stack" onSubmit={submit(confirm)} noValidate>
      <p className="alert alert-info" role="status">
        {ask.data.detail}
        {sentNote && ` ${sentNote}`}
      </p>
      <Field label="Code from the email" hint="6 digits" error={fieldError(confirm.error, 'code')}>
        {(p) => <input {...p} ref={codeInput} inputMode="numeric" autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.target.value)} />}
      </Field>
      <FormError error={confirm.error} />
      <div className="actions">
        {allowOtherAddress && (
          <button type="button" onClick={() => { ask.reset(); confirm.reset(); setCode(''); }}>
            Use another address
          </button>
        )}
        <button type="submit" className="primary" disabled={confirm.isPending}>
          {confirmLabel}
        </button>
      </div>
    </form>
  );
}
