import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { api, ApiError } from '../api.ts';
import { Field, FormError, Loading, fieldError } from '../components.tsx';

interface PublicForm {
  id: string;
  name: string;
  jobBoard: string | null;
  fields: { field: 'firstName' | 'lastName' | 'email' | 'mobilePhone' | 'ssn'; required: boolean }[];
  verificationEnabled: boolean;
}
type Applied =
  | { status: 'received'; applicationId: string; message: string }
  | { status: 'verification_required'; applicationId: string; verificationId: string; message: string; codeExpiresAt: string; resendAvailableAt: string };

const LABELS: Record<string, string> = { firstName: 'First name', lastName: 'Last name', email: 'Email', mobilePhone: 'Mobile phone', ssn: 'Social Security number' };
const TYPES: Record<string, string> = { email: 'email', mobilePhone: 'tel' };
const AUTOCOMPLETE: Record<string, string> = { firstName: 'given-name', lastName: 'family-name', email: 'email', mobilePhone: 'tel', ssn: 'off' };

/** The public application form, driven by the form's configuration, with the emailed-code step. */
export function ApplyPage({ formId }: { formId: string }) {
  const form = useQuery({ queryKey: ['public-form', formId], queryFn: () => api.get<PublicForm>(`/api/public/forms/${encodeURIComponent(formId)}`) });
  const [values, setValues] = useState<Record<string, string>>({});
  const [code, setCode] = useState('');
  const apply = useMutation({
    mutationFn: () => api.post<Applied>(`/api/public/forms/${formId}/apply`, Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.trim() || null]))),
  });
  const verificationId = apply.data?.status === 'verification_required' ? apply.data.verificationId : null;
  const verify = useMutation({ mutationFn: () => api.post<{ message: string }>(`/api/public/forms/${formId}/verifications/${verificationId}/verify`, { code: code.trim() }) });
  const resend = useMutation({ mutationFn: () => api.post<{ message?: string }>(`/api/public/forms/${formId}/verifications/${verificationId}/resend`) });

  if (form.isPending) return <Loading />;
  if (form.isError)
    return (
      <main className="public">
        <p className="alert alert-error" role="alert">
          {form.error instanceof ApiError && form.error.status === 404 ? 'This application form is not open.' : form.error.message}
        </p>
      </main>
    );
  const f = form.data;
  return (
    <main className="public">
      <div className="card">
        <h1>{f.name}</h1>
        {verify.isSuccess ? (
          <p className="alert alert-success" role="status">
            {verify.data.message}
          </p>
        ) : apply.data?.status === 'received' ? (
          <p className="alert alert-success" role="status">
            {apply.data.message}
          </p>
        ) : verificationId ? (
          <form
            className="stack"
            noValidate
            onSubmit={(e: FormEvent) => {
              e.preventDefault();
              verify.mutate();
            }}
          >
            <p className="alert alert-info" role="status">
              {apply.data!.message}
            </p>
            <Field label="Verification code" hint="the 6 digits from the email" error={fieldError(verify.error, 'code')}>
              {(p) => <input {...p} inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} />}
            </Field>
            <FormError error={verify.error} />
            {resend.isSuccess && <p role="status">{resend.data?.message ?? 'A new code is on its way.'}</p>}
            <FormError error={resend.error} />
            <div className="actions">
              <button type="button" onClick={() => resend.mutate()} disabled={resend.isPending}>
                Send a new code
              </button>
              <button type="submit" className="primary" disabled={verify.isPending}>
                Verify
              </button>
            </div>
          </form>
        ) : (
          <form
            className="stack"
            noValidate
            onSubmit={(e: FormEvent) => {
              e.preventDefault();
              apply.mutate();
            }}
          >
            {f.fields.map(({ field, required }) => (
              <Field key={field} label={`${LABELS[field] ?? field}${required ? '' : ' (optional)'}`} error={fieldError(apply.error, field)}>
                {(p) => <input {...p} name={field} type={TYPES[field] ?? 'text'} required={required} autoComplete={AUTOCOMPLETE[field]} value={values[field] ?? ''} onChange={(e) => setValues({ ...values, [field]: e.target.value })} />}
              </Field>
            ))}
            <FormError error={apply.error} />
            <button type="submit" className="primary" disabled={apply.isPending}>
              Apply
            </button>
          </form>
        )}
      </div>
    </main>
  );
}
