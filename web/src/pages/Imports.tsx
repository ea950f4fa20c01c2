import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { request } from '../api.ts';
import { Badge, Empty, Field, FormError, Loading, fieldError, formatDate } from '../components.tsx';

interface Import {
  id: string;
  status: string;
  fileName: string;
  rows: { total: number | null; done: number };
  summary: { created: number; updated: number; skippedDuplicate: number; invalid: number; suppressed: number; blank: number };
  error: string | null;
  createdAt: string;
  errorsUrl?: string;
}

export function ImportsPage() {
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [onDuplicate, setOnDuplicate] = useState('skip');
  const imports = useQuery({
    queryKey: ['imports'],
    queryFn: () => request<{ items: Import[] }>('GET', '/api/imports'),
    refetchInterval: (q) => (q.state.data?.items.some((i) => ['uploading', 'pending', 'running'].includes(i.status)) ? 1000 : false),
  });
  const upload = useMutation({
    mutationFn: async () => {
      if (!file) throw new Error('Choose a CSV file first.');
      return request('POST', '/api/imports', undefined, { raw: await file.text(), contentType: 'text/csv', query: { fileName: file.name, onDuplicate } });
    },
    onSuccess: () => {
      setFile(null);
      queryClient.invalidateQueries({ queryKey: ['imports'] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    upload.mutate();
  };
  return (
    <section>
      <h1>Imports</h1>
      <form className="card stack" onSubmit={submit} aria-label="Upload a CSV">
        <h2>Upload a CSV</h2>
        <Field label="CSV file" hint="The first row names the columns (firstName, lastName, email, mobilePhone…)." error={fieldError(upload.error, 'file')}>
          {(p) => <input {...p} type="file" accept=".csv,text/csv" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />}
        </Field>
        <Field label="When a row matches an existing contact" error={fieldError(upload.error, 'querystring.onDuplicate')}>
          {(p) => (
            <select {...p} value={onDuplicate} onChange={(e) => setOnDuplicate(e.target.value)}>
              <option value="skip">Skip the row</option>
              <option value="fill_empty">Fill only empty fields</option>
              <option value="overwrite">Overwrite the existing values</option>
            </select>
          )}
        </Field>
        <FormError error={upload.error} />
        <button type="submit" className="primary" disabled={!file || upload.isPending}>
          {upload.isPending ? 'Uploading…' : 'Import'}
        </button>
      </form>
      <FormError error={imports.error} />
      {imports.isPending ? (
        <Loading />
      ) : imports.data?.items.length === 0 ? (
        <Empty>No imports yet.</Empty>
      ) : (
        <div className="table-scroll">
          <table className="table" aria-label="Imports">
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Result</th>
                <th scope="col">Uploaded</th>
              </tr>
            </thead>
            <tbody>
              {imports.data?.items.map((i) => (
                <tr key={i.id}>
                  <td>{i.fileName}</td>
                  <td>
                    <Badge value={i.status} />
                    {i.error && <div className="field-error">{i.error}</div>}
                  </td>
                  <td>
                    <progress max={i.rows.total ?? undefined} value={i.rows.done} aria-label={`Progress of ${i.fileName}`} /> {i.rows.done}
                    {i.rows.total !== null ? ` / ${i.rows.total}` : ''} rows
                  </td>
                  <td>
                    {i.summary.created} created · {i.summary.updated} updated · {i.summary.skippedDuplicate} duplicates skipped · {i.summary.invalid} invalid · {i.summary.suppressed} suppressed
                    {i.summary.invalid > 0 && (
                      <>
                        {' '}
                        · <a href={i.errorsUrl ?? `/api/imports/${i.id}/errors.csv`} download>
                          Download the error report
                        </a>
                      </>
                    )}
                  </td>
                  <td>{formatDate(i.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
