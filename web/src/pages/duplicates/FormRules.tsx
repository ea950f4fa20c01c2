import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { Empty, Field, FormError, Loading, fieldError } from '../../components.tsx';
import type { ApplicationForm, DuplicateRule, FormFieldName, Institution } from '../../types.ts';
import { Refusal } from './Refusal.tsx';
import { describeRule, RuleFields } from './RuleFields.tsx';

const OPTIONAL_FIELDS: [FormFieldName, string][] = [
  ['email', 'Email'],
  ['mobilePhone', 'Mobile phone'],
  ['ssn', 'Social Security number'],
];

/** Each application form: which fields it asks for and requires, its own rule or the institution's, and application verification. */
export function FormRules({ institutionRule }: { institutionRule: DuplicateRule | undefined }) {
  const forms = useQuery({ queryKey: ['forms'], queryFn: () => api.get<{ items: ApplicationForm[] }>('/api/forms') });
  return (
    <section aria-labelledby="form-rules-title">
      <h2 id="form-rules-title">Application forms</h2>
      <FormError error={forms.error} />
      {forms.isPending ? <Loading /> : forms.data?.items.length === 0 ? <Empty>No application forms yet.</Empty> : forms.data?.items.map((f) => <FormRuleEditor key={`${f.id}:${f.updatedAt}`} form={f} institutionRule={institutionRule} />)}
      <NewForm />
    </section>
  );
}

function FormRuleEditor({ form, institutionRule }: { form: ApplicationForm; institutionRule: DuplicateRule | undefined }) {
  const queryClient = useQueryClient();
  const [fields, setFields] = useState(form.fields);
  const [ownRule, setOwnRule] = useState<DuplicateRule | null>(form.duplicateRule);
  const [verification, setVerification] = useState(form.verificationEnabled);
  const [mergePolicy, setMergePolicy] = useState(form.mergePolicy);
  const [active, setActive] = useState(form.active);
  const save = useMutation({
    mutationFn: () =>
      api.put<ApplicationForm>(`/api/forms/${form.id}`, {
        name: form.name,
        organizationId: form.organizationId,
        jobBoard: form.jobBoard,
        fields,
        duplicateRule: ownRule,
        verificationEnabled: verification,
        mergePolicy,
        active,
      }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['forms'] }),
  });
  const touch = () => save.reset();
  const fieldOf = (name: FormFieldName) => fields.find((f) => f.field === name);
  const setField = (name: FormFieldName, asked: boolean, required: boolean) => {
    touch();
    const rest = fields.filter((f) => f.field !== name);
    setFields(asked ? [...rest, { field: name, required }] : rest);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form className="card stack" onSubmit={submit} aria-label={`Form ${form.name}`} noValidate data-form={form.id}>
      <div className="card-head">
        <h3>{form.name}</h3>
        <a href={`/apply/${form.id}`} target="_blank" rel="noopener">
          Open the public form<span className="sr-only"> (new tab)</span>
        </a>
      </div>
      <fieldset>
        <legend>Fields (first and last name are always asked and required)</legend>
        {OPTIONAL_FIELDS.map(([name, text]) => {
          const f = fieldOf(name);
          return (
            <div key={name} className="actions">
              <label className="inline">
                <input type="checkbox" checked={!!f} onChange={(e) => setField(name, e.target.checked, false)} />
                Ask for {text}
              </label>
              <label className="inline">
                <input type="checkbox" checked={!!f?.required} disabled={!f} onChange={(e) => setField(name, true, e.target.checked)} />
                {text} required
              </label>
            </div>
          );
        })}
      </fieldset>
      <label className="inline check-row">
        <input
          type="checkbox"
          checked={ownRule !== null}
          onChange={(e) => {
            touch();
            setOwnRule(e.target.checked ? (institutionRule ?? form.effectiveRule) : null);
          }}
        />
        This form has its own duplicate rule
      </label>
      {ownRule ? (
        <RuleFields rule={ownRule} onChange={(r) => { touch(); setOwnRule(r); }} />
      ) : (
        <p className="muted">Follows the institution rule: {institutionRule ? describeRule(institutionRule) : form.effectiveRuleDescription}</p>
      )}
      <label className="inline check-row">
        <input type="checkbox" role="switch" aria-checked={verification} checked={verification} onChange={(e) => { touch(); setVerification(e.target.checked); }} />
        Application verification: an applicant matching an existing profile must enter a code emailed to that profile first
      </label>
      <Field label="A verified application">
        {(p) => (
          <select {...p} value={mergePolicy} onChange={(e) => { touch(); setMergePolicy(e.target.value as ApplicationForm['mergePolicy']); }}>
            <option value="fill_empty">only fills fields the profile lacks</option>
            <option value="overwrite">overwrites the profile with what was entered</option>
          </select>
        )}
      </Field>
      <label className="inline check-row">
        <input type="checkbox" checked={active} onChange={(e) => { touch(); setActive(e.target.checked); }} />
        Open for applications
      </label>
      <Refusal error={save.error} />
      {save.isSuccess && (
        <p className="alert alert-success" role="status">
          Saved.
        </p>
      )}
      <button type="submit" className="primary" disabled={save.isPending}>
        Save form
      </button>
    </form>
  );
}

function NewForm() {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const institution = useQuery({ queryKey: ['institution'], queryFn: () => api.get<Institution>('/api/institution') });
  const [organizationId, setOrganizationId] = useState('');
  const create = useMutation({
    mutationFn: () =>
      api.post<ApplicationForm>('/api/forms', {
        name: name.trim(),
        organizationId: organizationId || institution.data?.organizations[0]?.id,
        fields: [
          { field: 'firstName', required: true },
          { field: 'lastName', required: true },
          { field: 'email', required: true },
        ],
      }),
    onSuccess: () => {
      setName('');
      queryClient.invalidateQueries({ queryKey: ['forms'] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form className="card inline-form" onSubmit={submit} aria-label="New application form" noValidate>
      <Field label="New form name" error={fieldError(create.error, 'name')}>
        {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      {(institution.data?.organizations.length ?? 0) > 1 && (
        <Field label="Organization">
          {(p) => (
            <select {...p} value={organizationId || institution.data!.organizations[0].id} onChange={(e) => setOrganizationId(e.target.value)}>
              {institution.data!.organizations.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      <button type="submit" disabled={create.isPending}>
        Add form
      </button>
      <FormError error={create.error} />
    </form>
  );
}
