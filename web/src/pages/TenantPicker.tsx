import { useQuery } from '@tanstack/react-query';
import { api } from '../api.ts';
import { Empty, FormError, Loading } from '../components.tsx';
import type { Tenant } from '../types.ts';

/** Platform staff choose the institution they act in; every request in it is written to that institution's audit log. */
export function TenantPicker({ onChoose }: { onChoose: (id: string) => void }) {
  const tenants = useQuery({ queryKey: ['platform-institutions'], queryFn: () => api.get<{ items: Tenant[] }>('/api/platform/institutions') });
  return (
    <section>
      <h1>Choose an institution</h1>
      <p className="muted">As platform staff you act in one institution at a time. Everything you do there is recorded in its audit log.</p>
      <FormError error={tenants.error} />
      {tenants.isPending ? (
        <Loading />
      ) : tenants.data?.items.length === 0 ? (
        <Empty>There are no institutions yet.</Empty>
      ) : (
        <ul className="records" aria-label="Institutions">
          {tenants.data?.items.map((t) => (
            <li key={t.id}>
              <div className="record-main">
                <strong>{t.name}</strong> <span className="muted">({t.slug})</span>
              </div>
              <button type="button" onClick={() => onChoose(t.id)}>
                Act in {t.name}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
