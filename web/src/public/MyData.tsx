import { useState } from 'react';
import { api } from '../api.ts';
import { EmailCodeSteps } from './EmailCodeSteps.tsx';

/**
 * "Download my data" (right of access) for anyone, with no account: an address, a code sent there,
 * then a one-time link to a copy of everything held about them arrives by email. Neither step
 * says whether the address is known; the address stays out of the URL.
 */
export function MyDataPage({ institution }: { institution: string }) {
  const base = `/api/public/institutions/${encodeURIComponent(institution)}/subject-access`;
  const [done, setDone] = useState<string | null>(null);
  return (
    <main className="public" id="main">
      <div className="card">
        <h1>Get a copy of your data</h1>
        {done ? (
          <p className="alert alert-success" role="status">
            {done}
          </p>
        ) : (
          <EmailCodeSteps
            intro="Enter your email address. If we hold data about it, we send a code there; with that code you receive a one-time link to a copy of all your data."
            confirmLabel="Send me my data"
            askCode={(email) => api.post<{ requestId: string; detail: string }>(`${base}/code`, { email })}
            confirmCode={(email, code, sent) => api.post<{ detail: string }>(`${base}/confirm`, { requestId: sent.requestId, email, code })}
            onConfirmed={(result) => setDone(result.detail)}
          />
        )}
      </div>
    </main>
  );
}
