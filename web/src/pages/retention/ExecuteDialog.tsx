import { ConfirmDialog } from '../../components.tsx';
import type { RetentionRun, RetentionSettings } from '../../types.ts';
import { formatDay, inactiveTotal, plural } from './words.ts';

/** The phrase typed before an execution: it names how many contacts go, so nobody confirms blind. */
export const confirmPhrase = (n: number) => `erase ${n} ${n === 1 ? 'contact' : 'contacts'}`;

/**
 * Says exactly what executing the batch will do, from the simulation the user is looking at, and
 * asks for the phrase. The execution fixes its own set when it starts, with the same period.
 */
export function ExecuteDialog({
  simulation,
  settings,
  open,
  busy,
  error,
  onConfirm,
  onCancel,
}: {
  simulation: RetentionRun;
  settings: RetentionSettings | undefined;
  open: boolean;
  busy: boolean;
  error: unknown;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const report = simulation.report!;
  const n = inactiveTotal(report);
  const t = report.totals;
  const logMonths = settings?.logRetentionMonths ?? 12;
  return (
    <ConfirmDialog
      open={open}
      title={`Delete and anonymise ${plural(n, 'inactive contact')}?`}
      confirmLabel="Execute for real"
      typeToConfirm={confirmPhrase(n)}
      busy={busy}
      error={error}
      onConfirm={onConfirm}
      onCancel={onCancel}
    >
      <p>
        This runs "Deletion/anonymisation of inactive contacts" <strong>for real</strong>, for contacts with no activity in the last {plural(simulation.months, 'month')} (in this simulation: since{' '}
        {formatDay(simulation.cutoff)}), across every organization of the institution:
      </p>
      <ul data-testid="execute-effects">
        <li>
          <strong>{plural(t.prospectsToDelete, 'prospect')}</strong> (never bought nor benefited) {t.prospectsToDelete === 1 ? 'is' : 'are'} <strong>deleted</strong>, with every record attached.
        </li>
        <li>
          <strong>{plural(t.customersToAnonymise, 'customer')}</strong> (bought or benefited) {t.customersToAnonymise === 1 ? 'is' : 'are'} <strong>anonymised</strong>: names replaced, contact
          data and history removed.
        </li>
        <li>
          <strong>{plural(t.beneficiaryNamesToAnonymise, 'beneficiary name')}</strong> on their tickets {t.beneficiaryNamesToAnonymise === 1 ? 'is' : 'are'} anonymised too.
        </li>
      </ul>
      <p>
        It cannot be undone. Staff can no longer see these contacts' history; platform support can recover it from the logs for {plural(logMonths, 'month')}, then it is gone for good. Downstream
        systems subscribed to erasure webhooks are told.
      </p>
      <p className="muted">The contacts are selected again when the run starts: anyone active since this simulation is skipped.</p>
    </ConfirmDialog>
  );
}
