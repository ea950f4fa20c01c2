import { useEffect, useState } from 'react';
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { ConfirmDialog, DataTable, Empty, FormError, Loading } from '../../components.tsx';
import { Progress } from '../../JobProgress.tsx';
import { Link } from '../../router.tsx';
import type { DuplicateContact, Job, Page, PossibleDuplicate } from '../../types.ts';
import { jobDone, useJob } from '../../useJob.ts';

function Who({ c }: { c: DuplicateContact }) {
  return (
    <div>
      <Link to={`/contacts/${c.id}`}>
        {c.firstName} {c.lastName}
      </Link>
      <div className="muted">{[c.email, c.mobilePhone].filter(Boolean).join(' · ') || 'no email or phone'}</div>
    </div>
  );
}

/** Likely duplicates from fuzzy matching, best score first: merge them field by field, or say they are not the same person. */
export function PossibleDuplicates() {
  const queryClient = useQueryClient();
  const pairs = useInfiniteQuery({
    queryKey: ['possible-duplicates'],
    queryFn: ({ pageParam }) => api.get<Page<PossibleDuplicate>>('/api/possible-duplicates', { after: pageParam ?? undefined, limit: 50 }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });
  const [scanJob, setScanJob] = useState<string | null>(null);
  const scan = useMutation({ mutationFn: () => api.post<Job>('/api/possible-duplicates/scan'), onSuccess: (job) => setScanJob(job.id) });
  const job = useJob(scanJob);
  const [dismissing, setDismissing] = useState<PossibleDuplicate | null>(null);
  const dismiss = useMutation({
    mutationFn: (pair: PossibleDuplicate) => api.post(`/api/possible-duplicates/${pair.id}/dismiss`),
    onSuccess: () => {
      setDismissing(null);
      queryClient.invalidateQueries({ queryKey: ['possible-duplicates'] });
    },
  });
  const scanStatus = job.data?.status;
  useEffect(() => {
    if (scanStatus === 'succeeded') queryClient.invalidateQueries({ queryKey: ['possible-duplicates'] });
  }, [scanStatus]);
  const items = pairs.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div>
      <div className="actions">
        <button type="button" onClick={() => scan.mutate()} disabled={scan.isPending || (scanJob !== null && !jobDone(job.data))}>
          Scan all contacts now
        </button>
        {scanJob && job.data && <Progress job={job.data} />}
        {scanStatus === 'succeeded' && (
          <span role="status" className="muted">
            Scan finished.
          </span>
        )}
      </div>
      <FormError error={pairs.error ?? scan.error} />
      {pairs.isPending ? (
        <Loading />
      ) : items.length === 0 ? (
        <Empty>No possible duplicates are waiting. Scans run over every contact; exact duplicates are caught on the way in by the rules.</Empty>
      ) : (
        <DataTable label="Possible duplicates" columns={['Score', 'Contact', 'Possible duplicate', 'Why', { hidden: 'Actions' }]} rows={items}>
          {(pair) => (
            <tr key={pair.id}>
              <td className="score">{Math.round(pair.score * 100)}%</td>
              <td>
                <Who c={pair.contacts[0]} />
              </td>
              <td>
                <Who c={pair.contacts[1]} />
              </td>
              <td>
                <ul className="plain">
                  {pair.reasons.map((r) => (
                    <li key={r.code}>{r.text}</li>
                  ))}
                </ul>
              </td>
              <td>
                <div className="actions">
                  <Link to={`/duplicates/merge/${pair.contacts[0].id}/${pair.contacts[1].id}`} className="button-link">
                    Compare and merge
                  </Link>
                  <button type="button" className="link-button" onClick={() => setDismissing(pair)}>
                    Not the same person
                  </button>
                </div>
              </td>
            </tr>
          )}
        </DataTable>
      )}
      {pairs.hasNextPage && (
        <button type="button" onClick={() => pairs.fetchNextPage()} disabled={pairs.isFetchingNextPage}>
          More
        </button>
      )}
      <ConfirmDialog
        open={dismissing !== null}
        title="Not the same person?"
        confirmLabel="Dismiss pair"
        danger={false}
        busy={dismiss.isPending}
        error={dismiss.error}
        onCancel={() => setDismissing(null)}
        onConfirm={() => dismissing && dismiss.mutate(dismissing)}
      >
        <p>The pair leaves the queue and later scans leave it out. Both contacts stay as they are.</p>
      </ConfirmDialog>
    </div>
  );
}
