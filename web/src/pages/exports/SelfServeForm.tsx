import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { Field, FormError } from '../../components.tsx';
import type { ExportView, Page } from '../../types.ts';
import type { Filters } from '../Directory.tsx';
import { bulkFilterOf, describeFilter } from '../directory/bulk-filter.ts';

type ScopeType = 'filtered' | 'all' | 'project' | 'sequence';

/** The directory's current filters (kept in this tab's session storage, never in the URL). */
function directoryFilter(): Record<string, unknown> {
  try {
    const saved = JSON.parse(sessionStorage.getItem('lethe.directory.filters') ?? 'null') as Filters | null;
    if (!saved) return {};
    const { lifecycle: _ignored, ...rest } = bulkFilterOf({ ...saved, attrs: saved.attrs ?? {} });
    return rest;
  } catch {
    return {};
  }
}

export function SelfServeForm() {
  const queryClient = useQueryClient();
  const [scopeType, setScopeType] = useState<ScopeType>('filtered');
  const [format, setFormat] = useState<'csv' | 'json'>('csv');
  const [targetId, setTargetId] = useState('');
  const [filter] = useState(directoryFilter);
  const settings = useQuery({ queryKey: ['export-settings'], queryFn: () => api.get<{ selfServeLimit: number; linkTtlDays: number }>('/api/export-settings') });
  const projects = useQuery({ queryKey: ['projects'], queryFn: () => api.get<Page<{ id: string; name: string }>>('/api/projects', { limit: 200 }), enabled: scopeType === 'project' });
  const sequences = useQuery({ queryKey: ['sequences'], queryFn: () => api.get<Page<{ id: string; name: string }>>('/api/sequences', { limit: 200 }), enabled: scopeType === 'sequence' });
  const create = useMutation({
    mutationFn: () => {
      const scope =
        scopeType === 'project'
          ? { type: 'project', projectId: targetId }
          : scopeType === 'sequence'
            ? { type: 'sequence', sequenceId: targetId }
            : { type: 'contacts', filters: scopeType === 'filtered' ? filter : {} };
      return api.post<ExportView>('/api/exports', { format, scope });
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['exports'] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const choices = scopeType === 'project' ? projects.data?.items : scopeType === 'sequence' ? sequences.data?.items : undefined;
  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="self-serve-title" noValidate>
      <h2 id="self-serve-title">Export contacts yourself</h2>
      <p className="muted">
        Up to {settings.data?.selfServeLimit.toLocaleString() ?? '2,000'} contacts, as CSV or JSON in a zip. When it is ready you download it once from the list below; the file is destroyed
        after the download{settings.data ? ` or after ${settings.data.linkTtlDays} days` : ''}.
      </p>
      <Field label="What to export">
        {(p) => (
          <select {...p} value={scopeType} onChange={(e) => { setScopeType(e.target.value as ScopeType); setTargetId(''); }}>
            <option value="filtered">Contacts matching the directory's filters ({describeFilter(filter)})</option>
            <option value="all">All contacts you may see</option>
            <option value="project">A project</option>
            <option value="sequence">A sequence</option>
          </select>
        )}
      </Field>
      {choices && (
        <Field label={scopeType === 'project' ? 'Project' : 'Sequence'}>
          {(p) => (
            <select {...p} value={targetId} onChange={(e) => setTargetId(e.target.value)}>
              <option value="">Choose…</option>
              {choices.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      <Field label="Format">
        {(p) => (
          <select {...p} value={format} onChange={(e) => setFormat(e.target.value as 'csv' | 'json')}>
            <option value="csv">CSV</option>
            <option value="json">JSON</option>
          </select>
        )}
      </Field>
      <FormError error={create.error} />
      {create.isSuccess && (
        <p className="alert alert-success" role="status">
          Export started. It appears in the list below; download it there when it is ready.
        </p>
      )}
      <button type="submit" className="primary" disabled={create.isPending || ((scopeType === 'project' || scopeType === 'sequence') && !targetId)}>
        Export
      </button>
    </form>
  );
}
