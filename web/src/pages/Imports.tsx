import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { request } from '../api.ts';
import { Badge, DataTable, Empty, formatDate, FormError, Loading } from '../components.tsx';
import type { ImportView } from '../types.ts';
import { ImportProgress } from './imports/ImportProgress.tsx';
import { UploadForm } from './imports/UploadForm.tsx';

const ACTIVE = ['uploading', 'pending', 'running'];

export function ImportsPage() {
  const [current, setCurrent] = useState<string | null>(null);
  const imports = useQuery({
    queryKey: ['imports'],
    queryFn: () => request<{ items: ImportView[] }>('GET', '/api/imports'),
    refetchInterval: (q) => (q.state.data?.items.some((i) => ACTIVE.includes(i.status)) ? 1000 : false),
  });
  return (
    <section>
      <h1>Imports</h1>
      <UploadForm onStarted={setCurrent} />
      {current && <ImportProgress id={current} />}
      <h2>Earlier imports</h2>
      <FormError error={imports.error} />
      {imports.isPending ? (
        <Loading />
      ) : imports.data?.items.length === 0 ? (
        <Empty>No imports yet.</Empty>
      ) : (
        <DataTable label="Imports" columns={['File', 'Status', 'Rows', 'Result', 'Uploaded']} rows={imports.data?.items ?? []}>
          {(i) => (
            <tr key={i.id}>
              <td>
                <button type="button" className="link-button" onClick={() => setCurrent(i.id)}>
                  {i.fileName}
                </button>
              </td>
              <td>
                <Badge value={i.status} />
              </td>
              <td>
                {i.rows.done}
                {i.rows.total !== null ? ` / ${i.rows.total}` : ''}
              </td>
              <td>
                {i.summary.created} created · {i.summary.updated} updated · {i.summary.skippedDuplicate} duplicates · {i.summary.invalid} invalid
                {i.summary.invalid > 0 && (
                  <>
                    {' '}
                    ·{' '}
                    <a href={i.errorsUrl} download>
                      Error report<span className="sr-only"> of {i.fileName}</span>
                    </a>
                  </>
                )}
              </td>
              <td>{formatDate(i.createdAt)}</td>
            </tr>
          )}
        </DataTable>
      )}
    </section>
  );
}
