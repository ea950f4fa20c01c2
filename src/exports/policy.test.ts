import { describe, expect, it } from 'vitest';
import { orgTiers, type OrgTier } from '../db/schema.ts';
import { domainMatches, evaluateExportRequest, mayDecide, refusalMessages, withinChurnWindow, type RefusalRule } from './policy.ts';

const now = new Date('2026-06-01T12:00:00.000Z');
const DAY = 86_400_000;
const at = (ms: number) => new Date(now.getTime() + ms).toISOString();

/** Seed 003's table, written out as the support article states it. */
const seedTable: Record<OrgTier, { eligible: false } | { eligible: true; decidedBy: 'support' | 'csm'; csTeamToKnow: 'named_approver' | 'csm' }> = {
  free: { eligible: false }, // "Inform customer that we do not provide exports for FFS"; every column "Does not apply"
  scaled: { eligible: true, decidedBy: 'support', csTeamToKnow: 'named_approver' }, // "Yes, Amy"; support finds out the reason
  mid_market: { eligible: true, decidedBy: 'csm', csTeamToKnow: 'csm' }, // "Yes, CSM"; support waits on CSM approval
  enterprise: { eligible: true, decidedBy: 'csm', csTeamToKnow: 'csm' },
};

const churnDates: { label: string; value: string | null; eligible: boolean }[] = [
  { label: 'no contract end', value: null, eligible: true },
  { label: 'contract ends next month', value: at(30 * DAY), eligible: true },
  { label: 'churned 30 days ago', value: at(-30 * DAY), eligible: true },
  { label: 'churned exactly 90 days ago', value: at(-90 * DAY), eligible: true },
  { label: 'churned 90 days and 1 ms ago', value: at(-90 * DAY - 1), eligible: false },
  { label: 'churned 200 days ago', value: at(-200 * DAY), eligible: false },
];
const reasons: { label: string; value: string | undefined }[] = [
  { label: 'reason given', value: 'Team is moving to another workspace' },
  { label: 'blank reason', value: '   ' },
  { label: 'no reason', value: undefined },
];

function expected(c: { tier: OrgTier; admin: boolean; domain: boolean; reason: string | undefined; agency: boolean; churnEligible: boolean }) {
  if (c.agency) return { outcome: 'refused', rules: ['agency_contract'] as RefusalRule[] }; // a hard "no", whatever else holds
  const row = seedTable[c.tier];
  if (!row.eligible) return { outcome: 'refused', rules: ['free_tier'] as RefusalRule[] };
  if (!c.churnEligible) return { outcome: 'refused', rules: ['churned_over_90_days'] as RefusalRule[] };
  const rules: RefusalRule[] = [];
  if (!c.admin) rules.push('not_team_admin');
  if (!c.domain) rules.push('domain_mismatch');
  if (!c.reason?.trim()) rules.push('reason_required');
  if (rules.length) return { outcome: 'refused', rules };
  return { outcome: 'awaiting_approval', approver: row.decidedBy, notify: ['support', row.csTeamToKnow] };
}

describe('export policy (seed 003), every combination', () => {
  const cases: { name: string; input: Parameters<typeof evaluateExportRequest>[0]; want: ReturnType<typeof expected> }[] = [];
  for (const tier of orgTiers)
    for (const admin of [true, false])
      for (const domain of [true, false])
        for (const reason of reasons)
          for (const agency of [false, true])
            for (const churn of churnDates)
              cases.push({
                name: `${tier}, ${admin ? 'admin' : 'not admin'}, ${domain ? 'same domain' : 'other domain'}, ${reason.label}, ${agency ? 'agency' : 'own data'}, ${churn.label}`,
                input: { tier, requesterIsTeamAdmin: admin, requesterDomainMatches: domain, reason: reason.value, agency, contractEndsAt: churn.value, now },
                want: expected({ tier, admin, domain, reason: reason.value, agency, churnEligible: churn.eligible }),
              });

  it('covers tier × admin × domain × reason × agency × churn date (576 cases)', () => {
    expect(cases).toHaveLength(576);
  });

  it.each(cases)('$name', ({ input, want }) => {
    const got = evaluateExportRequest(input);
    if (want.outcome === 'refused') {
      expect(got.outcome).toBe('refused');
      if (got.outcome !== 'refused') return;
      expect(got.refusals.map((r) => r.rule)).toEqual(want.rules);
      expect(got.rule).toBe(want.rules![0]);
      for (const rule of want.rules!) expect(got.message).toContain(refusalMessages[rule]);
    } else {
      expect(got).toEqual({ outcome: 'awaiting_approval', approver: want.approver, notify: want.notify });
    }
  });
});

describe('churn window', () => {
  it('keeps a churned team eligible through day 90 and not a millisecond after', () => {
    const end = '2026-01-01T00:00:00.000Z';
    expect(withinChurnWindow(end, new Date(Date.parse(end) + 90 * DAY))).toBe(true);
    expect(withinChurnWindow(end, new Date(Date.parse(end) + 90 * DAY + 1))).toBe(false);
    expect(withinChurnWindow(null, now)).toBe(true);
  });
});

describe('email domain match', () => {
  it('matches one of the team domains exactly, ignoring case; a subdomain or look-alike does not match', () => {
    expect(domainMatches('Ann@Example.ORG', ['example.org'])).toBe(true);
    expect(domainMatches('ann@mail.example.org', ['example.org'])).toBe(false);
    expect(domainMatches('ann@example.org.evil.test', ['example.org'])).toBe(false);
    expect(domainMatches('ann@other.org', ['example.org', 'other.org'])).toBe(true);
    expect(domainMatches('ann@example.org', [])).toBe(false);
  });
});

describe('who decides a pending request', () => {
  const support = { platformRole: 'support' as const, userId: 's1' };
  const csm = { platformRole: 'csm' as const, userId: 'c1' };
  const otherCsm = { platformRole: 'csm' as const, userId: 'c2' };
  const tenantAdmin = { platformRole: null, userId: 'a1' };
  it('scaled: support approves and refuses; a CSM or tenant user cannot', () => {
    expect(mayDecide('scaled', support, null, 'approve').ok).toBe(true);
    expect(mayDecide('scaled', support, null, 'refuse').ok).toBe(true);
    expect(mayDecide('scaled', csm, 'c1', 'approve').ok).toBe(false);
    expect(mayDecide('scaled', tenantAdmin, null, 'approve').ok).toBe(false);
  });
  it.each(['mid_market', 'enterprise'] as const)('%s: only the assigned CSM approves; support may refuse', (tier) => {
    expect(mayDecide(tier, csm, 'c1', 'approve').ok).toBe(true);
    expect(mayDecide(tier, otherCsm, 'c1', 'approve').ok).toBe(false);
    expect(mayDecide(tier, support, 'c1', 'approve').ok).toBe(false);
    expect(mayDecide(tier, support, 'c1', 'refuse').ok).toBe(true);
    expect(mayDecide(tier, tenantAdmin, 'c1', 'approve').ok).toBe(false);
    const none = mayDecide(tier, csm, null, 'approve');
    expect(none.ok).toBe(false);
    if (!none.ok) expect(none.message).toMatch(/no assigned CSM/);
  });
});
