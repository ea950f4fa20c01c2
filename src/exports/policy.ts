import type { OrgTier } from '../db/schema.ts';

/**
 * Seed 003's export policy as one pure function: who may request a team's full export, and who
 * must approve it. The table:
 *
 * | tier              | team admin & same domain | who finds out the reason | CS team needs to know | approval            |
 * |-------------------|--------------------------|--------------------------|-----------------------|---------------------|
 * | free (FFS)        | does not apply           | does not apply           | does not apply        | refused             |
 * | scaled            | required                 | support                  | yes, the named approver | support handles it |
 * | mid-market/ent.   | required                 | support                  | yes, the CSM          | the CSM approves    |
 *
 * and its notes: a request for an agency contract's data is a hard no; a team that churned stays
 * eligible until 90 days after its contract ended, not after.
 *
 * Refusals are ordered: the hard stops (agency, free tier, churned too long ago) are each
 * reported alone, because nothing the requester can change would help; the requester checks
 * (team admin, email domain, reason) are reported together so all can be fixed at once.
 */

export const CHURN_GRACE_DAYS = 90;
const DAY_MS = 86_400_000;

export const refusalRules = ['agency_contract', 'free_tier', 'churned_over_90_days', 'not_team_admin', 'domain_mismatch', 'reason_required'] as const;
export type RefusalRule = (typeof refusalRules)[number];

export interface PolicyInput {
  tier: OrgTier;
  /** the requester belongs to the team and holds its administrator role */
  requesterIsTeamAdmin: boolean;
  /** the requester's email domain is one of the team's domains */
  requesterDomainMatches: boolean;
  /** the reason given, if any (blank counts as none) */
  reason: string | null | undefined;
  /** the request is for an agency contract's data */
  agency: boolean;
  /** when the team's contract ended or ends; null: no end recorded (an active customer) */
  contractEndsAt: string | Date | null;
  now: Date;
}

export interface Refusal {
  rule: RefusalRule;
  message: string;
}

export type PolicyDecision =
  | { outcome: 'refused'; rule: RefusalRule; message: string; refusals: Refusal[] }
  | {
      outcome: 'awaiting_approval';
      /** who decides: platform support for scaled teams, the team's assigned CSM above */
      approver: 'support' | 'csm';
      /** who is told about the request */
      notify: ('support' | 'named_approver' | 'csm')[];
    };

export const refusalMessages: Record<RefusalRule, string> = {
  agency_contract:
    "An agency contract's data is never exported: the export policy treats a request for an agency contract's data as a hard no.",
  free_tier: 'Full exports are not provided for free self-serve teams. Use the self-serve export (up to your limit) instead.',
  churned_over_90_days: `This team's contract ended more than ${CHURN_GRACE_DAYS} days ago; a team stays eligible for a full export for ${CHURN_GRACE_DAYS} days after its contract ends, not after.`,
  not_team_admin: "Only an administrator of the team can request its full export; ask your team's administrator to make the request.",
  domain_mismatch: "The requester's email domain must match one of the team's email domains; make the request from an address at the team's domain.",
  reason_required: 'A reason is required: say why the team needs its data (for example, moving to another team or leaving the service).',
};

const refuse = (rule: RefusalRule): Refusal => ({ rule, message: refusalMessages[rule] });

/** True when the team may still ask: no contract end, an end in the future, or one within the last 90 days (inclusive). */
export function withinChurnWindow(contractEndsAt: string | Date | null, now: Date): boolean {
  if (contractEndsAt === null) return true;
  const end = new Date(contractEndsAt).getTime();
  return now.getTime() <= end + CHURN_GRACE_DAYS * DAY_MS;
}

export function evaluateExportRequest(input: PolicyInput): PolicyDecision {
  const hardStop = input.agency
    ? refuse('agency_contract')
    : input.tier === 'free'
      ? refuse('free_tier')
      : !withinChurnWindow(input.contractEndsAt, input.now)
        ? refuse('churned_over_90_days')
        : null;
  if (hardStop) return { outcome: 'refused', rule: hardStop.rule, message: hardStop.message, refusals: [hardStop] };

  const refusals: Refusal[] = [];
  if (!input.requesterIsTeamAdmin) refusals.push(refuse('not_team_admin'));
  if (!input.requesterDomainMatches) refusals.push(refuse('domain_mismatch'));
  if (!input.reason || !input.reason.trim()) refusals.push(refuse('reason_required'));
  if (refusals.length) {
    return { outcome: 'refused', rule: refusals[0].rule, message: refusals.map((r) => r.message).join(' '), refusals };
  }

  return input.tier === 'scaled'
    ? { outcome: 'awaiting_approval', approver: 'support', notify: ['support', 'named_approver'] }
    : { outcome: 'awaiting_approval', approver: 'csm', notify: ['support', 'csm'] };
}

/** The domain part of an address, lower-cased. */
export function emailDomainOf(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).trim().toLowerCase();
}

/** Exact match on one of the team's domains (a subdomain is a different domain). */
export function domainMatches(email: string, teamDomains: readonly string[]): boolean {
  const domain = emailDomainOf(email);
  return teamDomains.some((d) => d.toLowerCase() === domain);
}

/**
 * Who may decide (approve or refuse) a pending request: platform support for a scaled team; for
 * mid-market and enterprise only the team's assigned CSM may approve, while support may still refuse.
 */
export function mayDecide(
  tier: OrgTier,
  decider: { platformRole: 'support' | 'csm' | null; userId: string },
  assignedCsmId: string | null,
  decision: 'approve' | 'refuse',
): { ok: true } | { ok: false; message: string } {
  if (tier === 'scaled') {
    return decider.platformRole === 'support'
      ? { ok: true }
      : { ok: false, message: "A scaled team's export request is handled by platform support; only a support user can decide it." };
  }
  if (decider.platformRole === 'csm' && assignedCsmId === decider.userId) return { ok: true };
  if (decision === 'refuse' && decider.platformRole === 'support') return { ok: true };
  if (!assignedCsmId) {
    return { ok: false, message: 'This team has no assigned CSM yet; assign one to the organization (csmUserId) so they can approve the request.' };
  }
  return { ok: false, message: "A mid-market or enterprise team's export needs the approval of the team's assigned CSM; you are not that CSM." };
}
