import type { ExportStatus } from '../db/schema.ts';

/**
 * The export state machine. submitted → awaiting_approval → approved → producing → ready →
 * downloaded | expired → destroyed; refused (with its rule) from submitted or awaiting_approval;
 * failed when production gives up. Self-serve exports skip the wait (submitted → approved), and
 * an erasure can destroy an export that is still being produced or waiting to be downloaded.
 */
export const transitions: Record<ExportStatus, readonly ExportStatus[]> = {
  submitted: ['awaiting_approval', 'approved', 'refused'],
  awaiting_approval: ['approved', 'refused'],
  approved: ['producing', 'refused', 'destroyed'],
  producing: ['ready', 'failed', 'destroyed'],
  ready: ['downloaded', 'expired', 'destroyed'],
  downloaded: ['destroyed'],
  expired: ['destroyed'],
  destroyed: [],
  refused: [],
  failed: [],
};

export function canMove(from: ExportStatus, to: ExportStatus): boolean {
  return transitions[from].includes(to);
}

/** States in which a file (or its key) may exist. */
export const liveStatuses: readonly ExportStatus[] = ['approved', 'producing', 'ready'];
/** States in which nothing can happen any more. */
export const finalStatuses: readonly ExportStatus[] = ['destroyed', 'refused', 'failed'];
