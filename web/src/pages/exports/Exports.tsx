import { useQuery } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { useCan } from '../../session.ts';
import type { Organization } from '../../types.ts';
import { ExportList } from './ExportList.tsx';
import { RequestForm } from './RequestForm.tsx';
import { SelfServeForm } from './SelfServeForm.tsx';

/** Exports under the policy of seed 003: self-serve up to the limit, requests above it, decisions, one-time downloads. */
export function ExportsPage() {
  const canSelf = useCan('exports.self');
  const canRequest = useCan('exports.request');
  const organizations = useQuery({ queryKey: ['organizations'], queryFn: () => api.get<{ items: Organization[] }>('/api/organizations') });
  const orgs = organizations.data?.items ?? [];
  return (
    <section>
      <h1>Exports</h1>
      <div className="grid-2">
        {canSelf && <SelfServeForm />}
        {canRequest && <RequestForm organizations={orgs} />}
      </div>
      <ExportList organizations={orgs} />
    </section>
  );
}
