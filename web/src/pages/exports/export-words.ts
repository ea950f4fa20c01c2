import type { ExportStatus, ExportView } from '../../types.ts';

export const STATUS_WORDS: Record<ExportStatus, string> = {
  submitted: 'Submitted',
  awaiting_approval: 'Awaiting approval',
  approved: 'Approved',
  producing: 'Being produced',
  ready: 'Ready to download',
  downloaded: 'Downloaded (file destroyed)',
  expired: 'Expired',
  destroyed: 'File destroyed',
  refused: 'Refused',
  failed: 'Failed',
};

export const KIND_WORDS: Record<ExportView['kind'], string> = { self_serve: 'Self-serve', request: 'Team request', subject_access: 'Right of access' };

export function approverWords(role: string | null): string {
  if (role === 'csm') return "the team's customer-success manager";
  if (role === 'support') return 'platform support';
  return 'nobody (automatic)';
}

/** What happened to a request, in a sentence for its requester. */
export function describeOutcome(e: ExportView): string {
  if (e.status === 'refused') return `Refused: ${e.refusal?.message ?? e.decisionNote ?? 'the export policy does not allow it.'}`;
  if (e.status === 'awaiting_approval') return `Request sent. It waits for the approval of ${approverWords(e.approverRole)}; nothing is produced before that.`;
  return `Request ${STATUS_WORDS[e.status].toLowerCase()}.`;
}
