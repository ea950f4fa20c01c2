import type { AppContext, Db } from '../context.ts';
import type { Selectable } from 'kysely';
import type { ExportsTable } from '../db/schema.ts';
import { enqueueMail } from '../mail/outbox.ts';
import { renderTemplate } from '../mail/template.ts';
import { readExportSettings } from './settings.ts';

type ExportRow = Selectable<ExportsTable>;

/** Who hears about an export's transitions; each gets one transactional email in the transition's transaction. */
export type Party = 'requester' | 'support' | 'named_approver' | 'csm' | 'contact';

export type ExportEvent =
  | { type: 'submitted'; approver: 'support' | 'csm' | null }
  | { type: 'refused'; rule: string; message: string }
  | { type: 'approved' }
  | { type: 'ready'; link: string; expiresAt: string }
  | { type: 'downloaded' }
  | { type: 'expired' }
  | { type: 'failed' }
  | { type: 'destroyed_by_erasure' };

const kindLabel: Record<ExportRow['kind'], string> = {
  self_serve: 'export',
  request: 'full export request',
  subject_access: 'copy of personal data',
};

interface Recipient {
  party: Party;
  to: string;
  name: string;
}

async function recipients(ctx: AppContext, db: Db, row: ExportRow, parties: Party[]): Promise<Recipient[]> {
  const out: Recipient[] = [];
  for (const party of new Set(parties)) {
    if (party === 'requester' && row.requested_by) {
      const u = await db.selectFrom('users').select(['email', 'name']).where('id', '=', row.requested_by).executeTakeFirst();
      if (u) out.push({ party, to: u.email, name: u.name });
    } else if (party === 'support') {
      const users = await db.selectFrom('users').select(['email', 'name']).where('platform_role', '=', 'support').where('site_access', '=', 1).orderBy('email').execute();
      for (const u of users) out.push({ party, to: u.email, name: u.name });
    } else if (party === 'named_approver') {
      const settings = await readExportSettings(db, row.institution_id);
      if (settings.scaledApproverEmail) out.push({ party, to: settings.scaledApproverEmail, name: settings.scaledApproverName ?? 'approver' });
    } else if (party === 'csm' && row.organization_id) {
      const csm = await db
        .selectFrom('organizations')
        .innerJoin('users', 'users.id', 'organizations.csm_user_id')
        .select(['users.email', 'users.name'])
        .where('organizations.id', '=', row.organization_id)
        .executeTakeFirst();
      if (csm) out.push({ party, to: csm.email, name: csm.name });
    } else if (party === 'contact' && row.contact_id) {
      const c = await db.selectFrom('contacts').select(['email', 'first_name']).where('id', '=', row.contact_id).executeTakeFirst();
      if (c?.email) out.push({ party, to: c.email, name: c.first_name });
    }
  }
  return out;
}

async function teamName(db: Db, row: ExportRow): Promise<string> {
  if (!row.organization_id) return 'your team';
  const org = await db.selectFrom('organizations').select('name').where('id', '=', row.organization_id).executeTakeFirst();
  return org?.name ?? 'your team';
}

function messageFor(event: ExportEvent, party: Party, row: ExportRow, team: string): { subject: string; text: string } | null {
  const what = kindLabel[row.kind];
  const ref = `Reference: export ${row.id}.`;
  switch (event.type) {
    case 'submitted':
      if (party === 'requester') {
        const next =
          event.approver === 'csm'
            ? "It now waits for the approval of your team's customer-success manager; nothing is produced before that."
            : 'Platform support now handles it.';
        return { subject: `We received your ${what} for {{team}}`, text: `Your ${what} for {{team}} was received, with your reason. ${next}\n\n${ref}` };
      }
      if (party === 'csm') {
        return {
          subject: `Approval needed: full data export for {{team}}`,
          text: `An administrator of {{team}} requested a full export of the team's data. The requester is a team admin with a matching email domain and gave this reason:\n\n{{reason}}\n\nAs the team's CSM, approve or refuse it (POST /api/exports/${row.id}/approve or /refuse, acting in the institution). Nothing is produced before your approval.\n\n${ref}`,
        };
      }
      if (party === 'named_approver') {
        return {
          subject: `For your information: full data export requested by {{team}}`,
          text: `An administrator of the scaled team {{team}} requested a full export of the team's data. Platform support handles the request. The reason given:\n\n{{reason}}\n\n${ref}`,
        };
      }
      return {
        subject: `Export request to handle: {{team}}`,
        text:
          event.approver === 'support'
            ? `A scaled team, {{team}}, requested a full export. The requester is a team admin with a matching domain. Reason:\n\n{{reason}}\n\nApprove or refuse it (POST /api/exports/${row.id}/approve or /refuse).\n\n${ref}`
            : `{{team}} (mid-market/enterprise) requested a full export. It waits for the approval of the team's CSM. Reason:\n\n{{reason}}\n\n${ref}`,
      };
    case 'refused':
      return {
        subject: `Your ${what} for {{team}} was refused`,
        text: `Your ${what} for {{team}} was refused (rule: ${event.rule}).\n\n${event.message}\n\n${ref}`,
      };
    case 'approved':
      if (party === 'requester') return { subject: `Your ${what} for {{team}} was approved`, text: `Your ${what} was approved and is being produced. You will receive a one-time download link when it is ready.\n\n${ref}` };
      return { subject: `Export approved: {{team}}`, text: `The full export for {{team}} was approved and is being produced.\n\n${ref}` };
    case 'ready':
      return {
        subject: row.kind === 'subject_access' ? 'Your personal data is ready to download' : `Your ${what} is ready to download`,
        text:
          `Your ${what} is ready. Download it here:\n\n${event.link}\n\n` +
          `This link works once: the first download delivers the file, and the file is then destroyed. ` +
          `It expires on ${event.expiresAt}; after that the file is destroyed unread. Do not forward this email.\n\n${ref}`,
      };
    case 'downloaded':
      return {
        subject: `Your ${what} was downloaded`,
        text: `Your ${what} was downloaded just now. Its file and key have been destroyed, and the link no longer works. If this was not you, tell your administrator.\n\n${ref}`,
      };
    case 'expired':
      return { subject: `Your ${what} expired unread`, text: `Your ${what} was not downloaded before its link expired. Its file and key have been destroyed; ask again if you still need it.\n\n${ref}` };
    case 'failed':
      return { subject: `Your ${what} could not be produced`, text: `Your ${what} could not be produced after several attempts. Nothing was kept; try again or contact support.\n\n${ref}` };
    case 'destroyed_by_erasure':
      return {
        subject: `Your ${what} was withdrawn`,
        text: `A person's data was erased while your ${what} was waiting, so the export was destroyed before delivery (erased data must not survive in export files). Ask again if you still need it.\n\n${ref}`,
      };
  }
}

/** Queues the emails of one transition, in its transaction. */
export async function notifyParties(ctx: AppContext, db: Db, row: ExportRow, event: ExportEvent, parties: Party[]): Promise<void> {
  const team = await teamName(db, row);
  for (const r of await recipients(ctx, db, row, parties)) {
    const template = messageFor(event, r.party, row, team);
    if (!template) continue;
    await enqueueMail(ctx, db, {
      institutionId: row.institution_id,
      contactId: r.party === 'contact' ? row.contact_id : null,
      category: 'transactional',
      template: `export.${event.type}`,
      to: r.to,
      message: renderTemplate(template, { team, reason: row.reason ?? '' }),
    });
  }
}
