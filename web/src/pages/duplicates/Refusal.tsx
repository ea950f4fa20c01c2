import { ApiError, errorMessage } from '../../api.ts';

const FIELD_WORDS: Record<string, string> = { email: 'Email', mobilePhone: 'Mobile phone', lastName: 'Last name', ssn: 'SSN', firstName: 'First name' };

/** The server's refusal, word for word, with the forms and fields it names (problem extension members). */
export function Refusal({ error }: { error: unknown }) {
  if (!error) return null;
  const problem = error instanceof ApiError ? error.problem : {};
  const forms = (problem.forms as { id: string; name: string; fieldsToRequire: string[] }[] | undefined) ?? [];
  const fields = (problem.fieldsToRequire as string[] | undefined) ?? [];
  return (
    <div className="alert alert-error" role="alert" data-testid="refusal">
      <p>{errorMessage(error)}</p>
      {fields.length > 0 && <p>Make these fields required first: {fields.map((f) => FIELD_WORDS[f] ?? f).join(', ')}.</p>}
      {forms.length > 0 && (
        <ul>
          {forms.map((f) => (
            <li key={f.id}>
              {f.name}: make {f.fieldsToRequire.map((x) => FIELD_WORDS[x] ?? x).join(', ')} required
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
