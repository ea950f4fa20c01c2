import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, request } from '../../api.ts';
import { DataTable, Field, FormError, fieldError } from '../../components.tsx';
import type { AttributeDefinition, ImportView, Institution } from '../../types.ts';
// The server's own automatic mapping (pure code, no server dependencies): what the file shows here is what the import will do.
import { autoMapHeaders, CONTACT_FIELDS } from '../../../../src/intake/rules/csv-mapping.ts';
import { readCsvHead } from './csv-head.ts';

const FIELD_LABELS: Record<string, string> = {
  firstName: 'First name',
  lastName: 'Last name',
  email: 'Email',
  mobilePhone: 'Mobile phone',
  ssn: 'SSN',
  employer: 'Employer',
  organization: 'Organization',
};

interface Column {
  header: string;
  sample: string;
  auto: string | null;
  target: string | null;
}

/** Choose a CSV, see its columns mapped automatically by name, change any mapping, upload. */
export function UploadForm({ onStarted }: { onStarted: (importId: string) => void }) {
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [inputKey, setInputKey] = useState(0); // a new input (empty) after each upload
  const [columns, setColumns] = useState<Column[]>([]);
  const [readError, setReadError] = useState<string | null>(null);
  const [onDuplicate, setOnDuplicate] = useState('skip');
  const [organizationId, setOrganizationId] = useState('');
  const attributes = useQuery({ queryKey: ['attributes'], queryFn: () => api.get<{ items: AttributeDefinition[] }>('/api/attributes') });
  const institution = useQuery({ queryKey: ['institution'], queryFn: () => api.get<Institution>('/api/institution') });

  const choose = async (chosen: File | null) => {
    setFile(chosen);
    setColumns([]);
    setReadError(null);
    upload.reset();
    if (!chosen) return;
    const [header, ...samples] = await readCsvHead(chosen);
    if (!header || header.every((h) => h.trim() === '')) {
      setReadError('The file has no header row: its first line must name the columns.');
      return;
    }
    const auto = autoMapHeaders(header, (attributes.data?.items ?? []).map((a) => ({ key: a.key, label: a.label })));
    setColumns(auto.map((c, i) => ({ header: c.header, sample: samples.find((r) => r[i]?.trim())?.[i] ?? '', auto: c.target, target: c.target })));
  };

  const upload = useMutation({
    mutationFn: () => {
      if (!file) throw new Error('Choose a CSV file first.');
      // Only the columns changed by hand are sent; the server maps the rest by name, as shown.
      const override = Object.fromEntries(columns.filter((c) => c.target !== c.auto).map((c) => [c.header, c.target]));
      return request<{ import: ImportView }>('POST', '/api/imports', undefined, {
        raw: file,
        contentType: 'text/csv',
        query: { fileName: file.name, onDuplicate, organizationId: organizationId || undefined, mapping: Object.keys(override).length ? JSON.stringify(override) : undefined },
      });
    },
    onSuccess: (answer) => {
      setFile(null);
      setInputKey((k) => k + 1);
      setColumns([]);
      queryClient.invalidateQueries({ queryKey: ['imports'] });
      onStarted(answer.import.id);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    upload.mutate();
  };
  const targets = [...CONTACT_FIELDS.map((f) => [f, FIELD_LABELS[f] ?? f]), ...(attributes.data?.items ?? []).map((a) => [`attr:${a.key}`, `Attribute: ${a.label}`])];
  const mappedNames = new Set(columns.map((c) => c.target).filter(Boolean));

  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="upload-title" noValidate>
      <h2 id="upload-title">Upload a CSV</h2>
      <Field label="CSV file" hint="The first row names the columns; they are matched to contact fields by name." error={fieldError(upload.error, 'file') ?? readError ?? undefined}>
        {(p) => <input {...p} key={inputKey} type="file" accept=".csv,text/csv" onChange={(e) => void choose(e.target.files?.[0] ?? null)} />}
      </Field>
      {columns.length > 0 && (
        <fieldset>
          <legend>Column mapping</legend>
          {!mappedNames.has('firstName') || !mappedNames.has('lastName') ? (
            <p className="alert alert-info">No column is mapped to {!mappedNames.has('firstName') ? 'First name' : 'Last name'}: rows without a name are reported as errors.</p>
          ) : null}
          <DataTable label="Column mapping" columns={['Column in the file', 'First value', 'Import as']} rows={columns}>
            {(c, i) => (
              <tr key={i}>
                <th scope="row">{c.header || <em>(no name)</em>}</th>
                <td className="truncate">{c.sample || <span className="muted">—</span>}</td>
                <td>
                  <select
                    aria-label={`Import column ${c.header} as`}
                    value={c.target ?? ''}
                    onChange={(e) => setColumns(columns.map((x, j) => (j === i ? { ...x, target: e.target.value || null } : x)))}
                  >
                    <option value="">Do not import</option>
                    {targets.map(([value, text]) => (
                      <option key={value} value={value}>
                        {text}
                      </option>
                    ))}
                  </select>
                  {c.target !== c.auto && <small className="muted"> (changed)</small>}
                </td>
              </tr>
            )}
          </DataTable>
          {fieldError(upload.error, 'mapping') && (
            <p className="field-error" role="alert">
              {fieldError(upload.error, 'mapping')}
            </p>
          )}
        </fieldset>
      )}
      <Field label="When a row matches an existing contact" error={fieldError(upload.error, 'onDuplicate')}>
        {(p) => (
          <select {...p} value={onDuplicate} onChange={(e) => setOnDuplicate(e.target.value)}>
            <option value="skip">Skip the row</option>
            <option value="fill_empty">Fill only empty fields</option>
            <option value="overwrite">Overwrite the existing values</option>
          </select>
        )}
      </Field>
      {(institution.data?.organizations.length ?? 0) > 1 && (
        <Field label="Organization" hint="the contacts record which organization created them">
          {(p) => (
            <select {...p} value={organizationId} onChange={(e) => setOrganizationId(e.target.value)}>
              <option value="">Your organization</option>
              {institution.data!.organizations.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      <FormError error={upload.error} />
      <button type="submit" className="primary" disabled={!file || !!readError || upload.isPending}>
        {upload.isPending ? 'Uploading…' : 'Import'}
      </button>
    </form>
  );
}
