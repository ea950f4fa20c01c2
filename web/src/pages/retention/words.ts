import type { InactiveReport, RetentionRun } from '../../types.ts';

export const RUN_STATUS_WORDS: Record<RetentionRun['status'], string> = { queued: 'Queued', running: 'Running', succeeded: 'Completed', failed: 'Failed' };
export const RUN_STATUS_BADGE: Record<RetentionRun['status'], string> = { queued: 'queued', running: 'running', succeeded: 'succeeded', failed: 'failed' };
export const MODE_WORDS: Record<RetentionRun['mode'], string> = { simulation: 'Simulation', execution: 'Execution' };

export const REASON_WORDS: Record<string, string> = {
  created: 'Created (no activity since)',
  option_acquired: 'Option acquired',
  option_confirmed: 'Option confirmed',
  reservation: 'Reservation',
  sale: 'Sale',
  waitlist: 'Added to a waiting list',
  link_click: 'Tracked link clicked',
  criterion_change: 'Criterion changed',
  authorization_change: 'Authorization changed',
};

export const runFinished = (run: RetentionRun | undefined) => !!run && (run.status === 'succeeded' || run.status === 'failed');

/** Contacts a report puts in the batch's set: deleted prospects plus anonymised customers. */
export const inactiveTotal = (r: InactiveReport) => r.totals.prospectsToDelete + r.totals.customersToAnonymise;

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

export function formatDay(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
}
