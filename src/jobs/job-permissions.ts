import type { Permission } from '../access/permissions.ts';
import { actionPermission } from '../lifecycle/rules.ts';
import { BULK_JOB_KIND } from '../lifecycle/bulk/bulk-job.ts';
import { INACTIVE_JOB_KIND } from '../retention/inactive-runs.ts';
import { EXPORT_JOB } from '../exports/exports.ts';
import { IMPORT_JOB } from '../intake/import/imports.ts';
import { POSSIBLE_DUPLICATES_SCAN_JOB } from '../intake/possible-duplicates/queue.ts';

/**
 * Who may see a background job and cancel it: whoever may start that kind of work (any one of the
 * permissions listed). A job's result names what it did, and cancelling an expunge or a retention
 * run stops an erasure, so neither is open to every staff member.
 */
export function jobPermissions(kind: string, payload: string): Permission[] {
  switch (kind) {
    case IMPORT_JOB:
      return ['imports.run'];
    case POSSIBLE_DUPLICATES_SCAN_JOB:
      return ['duplicates.manage', 'imports.run'];
    case EXPORT_JOB:
      return ['exports.self', 'exports.request', 'exports.approve'];
    case INACTIVE_JOB_KIND:
      return ['retention.manage'];
    case BULK_JOB_KIND: {
      const action = (JSON.parse(payload) as { input?: { action?: string } }).input?.action;
      return [action && action in actionPermission ? actionPermission[action as keyof typeof actionPermission] : 'contacts.write'];
    }
    default:
      // Platform maintenance (storage scrubs) and kinds added later without a rule: administrators only.
      return ['users.manage'];
  }
}

export const mayHandleJob = (held: ReadonlySet<Permission>, job: { kind: string; payload: string }) => jobPermissions(job.kind, job.payload).some((p) => held.has(p));
