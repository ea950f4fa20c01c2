import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../api.ts';
import { Badge, Empty, Field, FormError, Loading, formatDate } from '../components.tsx';
import type { OutboxMessage } from '../types.ts';

export function OutboxPage() {
  const [status, setStatus] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const outbox = useQuery({
    queryKey: ['outbox', status],
    queryFn: () => api.get<{ smtpConfigured: boolean; items: OutboxMessage[] }>('/api/outbox', { status, limit: 200 }),
    refetchInterval: 5000,
  });
  return (
    <section>
      <h1>Outbox</h1>
      {outbox.data && !outbox.data.smtpConfigured && (
        <p className="alert alert-info">No SMTP server is configured: every message is held here instead of being sent. Set LETHE_SMTP_URL to deliver mail.</p>
      )}
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter the outbox">
        <Field label="Status">
          {(p) => (
            <select {...p} value={status} onChange={(e) => setStatus(e.target.value)}>
              <option value="">Any</option>
              {['pending', 'sending', 'sent', 'failed', 'held', 'refused'].map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          )}
        </Field>
      </form>
      <FormError error={outbox.error} />
      {outbox.isPending ? (
        <Loading />
      ) : outbox.data?.items.length === 0 ? (
        <Empty>No messages.</Empty>
      ) : (
        <ul className="records" aria-label="Messages">
          {outbox.data?.items.map((m) => (
            <li key={m.id} className="message">
              <div className="record-main">
                <button type="button" className="link-button" aria-expanded={open === m.id} onClick={() => setOpen(open === m.id ? null : m.id)}>
                  {m.subject ?? `(${m.template})`}
                </button>
                <span className="muted">
                  {' '}
                  to {m.to ?? '—'} · {formatDate(m.createdAt)} · {m.category}
                </span>{' '}
                <Badge value={m.status} />
                {m.lastError && <p className="field-error">{m.lastError}</p>}
                {open === m.id && <pre className="message-text">{m.text ?? '(no text)'}</pre>}
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
