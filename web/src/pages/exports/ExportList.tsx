import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { ConfirmDialog, DataTable, Empty, Field, fieldError, formatDate, FormError, Loading } from '../../components.tsx';
import { useCan, useUser } from '../../session.ts';
import type { ExportView, Organization, Page } from '../../types.ts';
import { downloadOnce } from './download.ts';
import { approverWords, KIND_WORDS, STATUS_WORDS } from './export-words.ts';

const MOVING = ['submitted', 'approved', 'producing'];

/** Your exports, or (for those who decide them) every export of the institution: the request queue. */
export function ExportList({ organizations }: { organizations: Organization[] }) {
  const queryClient = useQueryClient();
  const user = useUser();
  const canDecide = useCan('exports.approve');
  // Platform staff come here to decide; everyone else first sees their own exports.
  const [onlyWaiting, setOnlyWaiting] = useState(canDecide && user.platformRole !== null);
  const list = useQuery({
    queryKey: ['exports', onlyWaiting],
    queryFn: () => api.get<Page<ExportView>>('/api/exports', { status: onlyWaiting ? 'awaiting_approval' : undefined, limit: 100 }),
    refetchInterval: (q) => (q.state.data?.items.some((e) => MOVING.includes(e.status)) ? 1000 : q.state.data?.items.some((e) => e.status === 'awaiting_approval') ? 10_000 : false),
  });
  const [deciding, setDeciding] = useState<{ item: ExportView; decision: 'approve' | 'refuse' } | null>(null);
  const [note, setNote] = useState('');
  const decide = useMutation({
    mutationFn: ({ item, decision }: { item: ExportView; decision: 'approve' | 'refuse' }) => api.post<ExportView>(`/api/exports/${item.id}/${decision}`, { note: note.trim() || undefined }),
    onSuccess: () => {
      setDeciding(null);
      queryClient.invalidateQueries({ queryKey: ['exports'] });
    },
  });
  const [downloaded, setDownloaded] = useState<string | null>(null);
  const download = useMutation({
    mutationFn: (item: ExportView) => downloadOnce(item.id),
    onSuccess: (name) => setDownloaded(name),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['exports'] }),
  });
  const orgName = (id: string | null) => organizations.find((o) => o.id === id)?.name ?? '—';
  const open = (item: ExportView, decision: 'approve' | 'refuse') => {
    setNote('');
    decide.reset();
    setDeciding({ item, decision });
  };
  return (
    <div className="card">
      <div className="card-head">
        <h2>{canDecide ? 'Export requests and exports' : 'Your exports'}</h2>
        {canDecide && (
          <label className="inline">
            <input type="checkbox" checked={onlyWaiting} onChange={(e) => setOnlyWaiting(e.target.checked)} />
            Only requests awaiting approval
          </label>
        )}
      </div>
      <FormError error={list.error ?? download.error} />
      {downloaded && (
        <p className="alert alert-success" role="status">
          Downloaded {downloaded}. The file has been destroyed on the server; the link cannot be used again.
        </p>
      )}
      {list.isPending ? (
        <Loading />
      ) : list.data?.items.length === 0 ? (
        <Empty>{onlyWaiting ? 'No request is awaiting approval.' : 'No exports yet.'}</Empty>
      ) : (
        <DataTable label="Exports" columns={['Kind', 'Team', 'Status', 'Reason', 'Requested', { hidden: 'Actions' }]} rows={list.data?.items ?? []}>
          {(e) => (
            <tr key={e.id} data-export={e.id}>
              <td>
                {KIND_WORDS[e.kind]} · {e.format.toUpperCase()}
              </td>
              <td>{orgName(e.organizationId)}</td>
              <td>
                <span className={`badge badge-${e.status}`}>{STATUS_WORDS[e.status]}</span>
                {e.status === 'awaiting_approval' && <div className="muted">Decided by {approverWords(e.approverRole)}</div>}
                {e.progress && MOVING.includes(e.status) && (
                  <div>
                    <progress max={e.progress.total ?? undefined} value={e.progress.done} aria-label="Export progress" /> {e.progress.done}
                    {e.progress.total !== null ? ` / ${e.progress.total}` : ''}
                  </div>
                )}
                {e.refusal && <div className="field-error">{e.refusal.message}</div>}
                {e.decisionNote && <div className="muted">Note: {e.decisionNote}</div>}
                {e.status === 'ready' && e.linkExpiresAt && <div className="muted">Until {formatDate(e.linkExpiresAt)}, once</div>}
                {e.downloadedAt && <div className="muted">Downloaded {formatDate(e.downloadedAt)}</div>}
              </td>
              <td className="pre">{e.reason ?? '—'}</td>
              <td>{formatDate(e.createdAt)}</td>
              <td>
                <div className="actions">
                  {canDecide && e.status === 'awaiting_approval' && (
                    <>
                      <button type="button" className="primary" onClick={() => open(e, 'approve')}>
                        Approve
                      </button>
                      <button type="button" className="danger-outline" onClick={() => open(e, 'refuse')}>
                        Refuse
                      </button>
                    </>
                  )}
                  {e.status === 'ready' && e.requestedBy === user.id && (
                    <button type="button" className="primary" disabled={download.isPending} onClick={() => download.mutate(e)}>
                      Download once
                    </button>
                  )}
                </div>
              </td>
            </tr>
          )}
        </DataTable>
      )}
      {deciding && (
        <ConfirmDialog
          open
          title={deciding.decision === 'approve' ? 'Approve this export request?' : 'Refuse this export request?'}
          confirmLabel={deciding.decision === 'approve' ? 'Approve export' : 'Refuse export'}
          danger={deciding.decision === 'refuse'}
          busy={decide.isPending}
          error={decide.error}
          onCancel={() => setDeciding(null)}
          onConfirm={() => decide.mutate(deciding)}
        >
          {deciding.decision === 'approve' ? (
            <p>
              The full export of {orgName(deciding.item.organizationId)} is produced now. Its requester gets a link that downloads it once; the file is destroyed after the download or at expiry.
              The policy is checked again as it stands now, and your decision is audited.
            </p>
          ) : (
            <p>Nothing is produced. The requester is told, with your note.</p>
          )}
          <p className="muted">Reason given: {deciding.item.reason ?? '—'}</p>
          <Field label={deciding.decision === 'refuse' ? 'Note to the requester (required)' : 'Note (optional)'} error={fieldError(decide.error, 'note')}>
            {(p) => <textarea {...p} rows={2} value={note} onChange={(ev) => setNote(ev.target.value)} />}
          </Field>
        </ConfirmDialog>
      )}
    </div>
  );
}
