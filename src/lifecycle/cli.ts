import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { ZodError, type z } from 'zod';
import type { AppContext } from '../context.ts';
import { cliActor } from '../audit/audit-log.ts';
import { withContext } from '../cli/context.ts';
import { CliError, exitCodes } from '../cli/errors.ts';
import { systemViewer } from '../contacts/visibility.ts';
import { actionInputSchema, type Acting, type ActionInput } from './actions.ts';
import { runContactAction, getLifecycle } from './contact-actions.ts';
import { erasureReasons } from './erase.ts';
import { previewBulk, runBulkJobHere, startBulkJob, type BulkReport } from './bulk/bulk-job.ts';
import { bulkFilterSchema, type BulkFilter } from './bulk/bulk-select.ts';
import { lifecycleSettingsSchema, readLifecycleSettings, writeLifecycleSettings } from './settings.ts';
import { recordAudit } from '../audit/audit-log.ts';

const acting: Acting = { viewer: systemViewer, actor: cliActor, via: 'cli' };

async function institutionOf(ctx: AppContext, ref: string): Promise<{ id: string; slug: string }> {
  const row = await ctx.db
    .selectFrom('institutions')
    .select(['id', 'slug'])
    .where((eb) => eb.or([eb('slug', '=', ref.toLowerCase()), eb('id', '=', ref)]))
    .executeTakeFirst();
  if (!row) throw new CliError(`--institution: no institution has the slug or id "${ref}".`, exitCodes.notFound);
  return row;
}

/** API field names as the flags spell them, so a message names what the operator typed. */
const flagOf: Record<string, string> = {
  lastName: '--last-name',
  firstName: '--first-name',
  organizationId: '--organization',
  employerId: '--employer / --set-employer',
  ownerUserId: '--owner',
  approvalStatus: '--approval-status',
  optInStatus: '--opt-in-status',
  createdFrom: '--created-from',
  createdTo: '--created-to',
  attributes: '--attr / --set-attr',
  visibility: '--visibility / --set-visibility',
  notify: '--no-notify',
  selfServiceDelete: '--self-service-delete',
};

function parseFlags<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  try {
    return schema.parse(value);
  } catch (error) {
    if (!(error instanceof ZodError)) throw error;
    const lines = error.issues.map((i) => `  ${flagOf[String(i.path[0])] ?? `--${i.path.join('.') || 'input'}`}: ${i.message}`);
    throw new CliError(`Invalid input:\n${lines.join('\n')}\nNothing was changed.`);
  }
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function attributeSettings(pairs: string[] = []): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`--set-attr "${pair}" must be key=value (key= removes the value).`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1) === '' ? null : pair.slice(eq + 1);
  }
  return out;
}

function attributeFilters(pairs: string[] = []): BulkFilter['attributes'] {
  if (pairs.length === 0) return undefined;
  const byKey = new Map<string, { key: string; op: 'eq' | 'gte' | 'lte'; values: string[] }>();
  for (const pair of pairs) {
    const m = /^([^=<>]+)(=|>=|<=)(.*)$/.exec(pair);
    if (!m) throw new CliError(`--attr "${pair}" must be key=value, key>=value or key<=value.`);
    const op = m[2] === '=' ? 'eq' : m[2] === '>=' ? 'gte' : 'lte';
    const id = `${m[1]}:${op}`;
    const f = byKey.get(id) ?? { key: m[1], op, values: [] };
    f.values.push(m[3]);
    byKey.set(id, f);
  }
  return [...byKey.values()];
}

interface FilterFlags {
  ids?: string;
  email?: string;
  lastName?: string;
  firstName?: string;
  q?: string;
  organization?: string;
  employer?: string;
  owner?: string;
  visibility?: string;
  approvalStatus?: string;
  lifecycle?: string;
  source?: string;
  optInStatus?: string;
  createdFrom?: string;
  createdTo?: string;
  attr?: string[];
}

function filterOf(o: FilterFlags): BulkFilter {
  const raw = {
    ids: o.ids?.split(',').map((s) => s.trim()).filter(Boolean),
    email: o.email,
    lastName: o.lastName,
    firstName: o.firstName,
    q: o.q,
    organizationId: o.organization,
    employerId: o.employer,
    ownerUserId: o.owner,
    visibility: o.visibility,
    approvalStatus: o.approvalStatus,
    lifecycle: o.lifecycle,
    source: o.source,
    optInStatus: o.optInStatus,
    createdFrom: o.createdFrom,
    createdTo: o.createdTo,
    attributes: attributeFilters(o.attr),
  };
  return parseFlags(bulkFilterSchema, Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
}

interface ActionFlags {
  reason?: string;
  keepEmployer?: boolean;
  keepVisibility?: boolean;
  withoutDoNotEmail?: boolean;
  to?: string;
  notify?: boolean;
  setEmployer?: string;
  setVisibility?: string;
  setAttr?: string[];
}

function actionOf(action: string, o: ActionFlags): ActionInput {
  const raw: Record<string, unknown> = { action };
  if (o.reason !== undefined) raw.reason = o.reason;
  if (action === 'archive') Object.assign(raw, { employer: !o.keepEmployer, doNotEmail: !o.withoutDoNotEmail, staffOnly: !o.keepVisibility });
  if (action === 'unarchive' && o.to !== undefined) raw.employerId = o.to === 'none' ? null : o.to;
  if (action === 'expunge') raw.notify = o.notify;
  if (action === 'update') {
    if (o.setEmployer !== undefined) raw.employerId = o.setEmployer === 'none' ? null : o.setEmployer;
    if (o.setVisibility !== undefined) raw.visibility = o.setVisibility;
    if (o.setAttr?.length) raw.attributes = attributeSettings(o.setAttr);
  }
  return parseFlags(actionInputSchema, raw) as ActionInput;
}

const contactActions = ['disable', 'restore', 'archive', 'unarchive', 'reject', 'approve', 'delete', 'expunge'] as const;
const bulkActions = [...contactActions, 'update'] as const;

function actionFlags(cmd: Command, action: string): Command {
  if (action === 'delete' || action === 'expunge') cmd.option('--reason <code>', `one of ${erasureReasons.join(', ')} (default staff_decision)`);
  else cmd.option('--reason <text>', 'why; kept in the audit log, sealed with the contact’s key');
  if (action === 'archive') {
    cmd.option('--keep-employer', 'keep the current employer (default: move to "Inactive")');
    cmd.option('--without-do-not-email', 'do not set the "Inactive / Do not email" attribute');
    cmd.option('--keep-visibility', 'keep the current visibility (default: staff only)');
  }
  if (action === 'unarchive') cmd.option('--to <employerId|none>', 'move to this employer (default: the one before archiving)');
  if (action === 'expunge') cmd.option('--no-notify', 'do not email the contact a confirmation');
  if (action === 'update') {
    cmd.option('--set-employer <id|none>', 'move to this employer');
    cmd.option('--set-visibility <everyone|staff_only|owner_only>', 'set visibility');
    cmd.option('--set-attr <key=value>', 'set a custom attribute (key= removes it); repeatable', collect);
  }
  return cmd;
}

function printReport(report: BulkReport): void {
  process.stdout.write(`${report.action}: ${report.changed} changed, ${report.unchanged} unchanged, ${report.refused} refused (of ${report.total}).\n`);
  for (const [why, n] of Object.entries(report.reasons)) process.stdout.write(`  ${n} × ${why}\n`);
}

export function registerLifecycleCommands(program: Command): void {
  const contact = program.command('contact').description("a contact's lifecycle: disable, restore, archive, reject, approve, delete, expunge");
  for (const action of contactActions) {
    actionFlags(
      contact
        .command(action)
        .description(
          {
            disable: 'soft-delete: hidden from the directory, workflows and email; restorable',
            restore: 'restore a disabled contact',
            archive: 'move to "Inactive", set "Do not email", restrict to staff',
            unarchive: 'revive an archived contact',
            reject: 'reject: leaves the directory, data frozen',
            approve: 'approve a pending or rejected contact',
            delete: 'delete the contact and every record attached to it',
            expunge: 'erase everywhere, shred audit entries, email a confirmation first',
          }[action],
        )
        .argument('<contactId>')
        .requiredOption('--institution <slug|id>', 'the institution the contact belongs to'),
      action,
    ).action(async (contactId: string, opts: ActionFlags & { institution: string }) => {
      const input = actionOf(action, opts);
      await withContext(async (ctx) => {
        const institution = await institutionOf(ctx, opts.institution);
        const result = await runContactAction(ctx, institution.id, acting, contactId, input);
        process.stdout.write(result.outcome === 'changed' ? `Contact ${contactId}: ${action} done.\n` : `Contact ${contactId}: unchanged. ${result.detail ?? ''}\n`);
      });
    });
  }
  contact
    .command('lifecycle')
    .description('show whether a contact is disabled, archived, rejected or marked do-not-email')
    .argument('<contactId>')
    .requiredOption('--institution <slug|id>', 'the institution the contact belongs to')
    .action(async (contactId: string, opts: { institution: string }) => {
      await withContext(async (ctx) => {
        const institution = await institutionOf(ctx, opts.institution);
        process.stdout.write(JSON.stringify(await getLifecycle(ctx.db, institution.id, systemViewer, contactId), null, 2) + '\n');
      });
    });

  const bulk = program.command('bulk').description('a lifecycle action or update on every contact a filter selects (preview first; --yes runs it)');
  for (const action of bulkActions) {
    const cmd = bulk
      .command(action)
      .description(action === 'update' ? 'set employer, visibility and/or attributes' : `${action} every selected contact`)
      .requiredOption('--institution <slug|id>', 'the institution')
      .option('--yes', 'run it; without it only the preview count is shown')
      .option('--ids <id,id,…>', 'these contacts')
      .option('--email <email>', 'exact email')
      .option('--last-name <prefix>', 'last-name prefix')
      .option('--first-name <prefix>', 'first-name prefix')
      .option('--q <prefix>', 'prefix of a name or email')
      .option('--organization <id>', 'created by this organization')
      .option('--employer <id>', 'current employer')
      .option('--owner <userId>', 'owner')
      .option('--visibility <v>', 'everyone, staff_only or owner_only')
      .option('--approval-status <s>', 'pending, approved or rejected (default: all but rejected)')
      .option('--lifecycle <l>', 'active (default), disabled or any')
      .option('--source <s>', 'self_signup, application, manual, bulk_import or api')
      .option('--opt-in-status <s>', 'unknown, opted_in or opted_out')
      .option('--created-from <iso>', 'created at or after')
      .option('--created-to <iso>', 'created before')
      .option('--attr <key=value>', 'custom attribute filter (also key>=v, key<=v); repeatable', collect);
    actionFlags(cmd, action).action(async (opts: FilterFlags & ActionFlags & { institution: string; yes?: boolean }) => {
      const filter = filterOf(opts);
      const input = actionOf(action, opts);
      await withContext(async (ctx) => {
        const institution = await institutionOf(ctx, opts.institution);
        const count = await previewBulk(ctx, institution.id, acting.viewer, filter);
        if (!opts.yes) {
          process.stdout.write(`${count} contact(s) match; run again with --yes to ${action} them.\n`);
          return;
        }
        if (count === 0) throw new CliError('No contact matches the filter; nothing was changed.', exitCodes.notFound);
        const started = await startBulkJob(ctx, institution.id, acting, filter, input, { expectedCount: count });
        process.stderr.write(`Job ${started.jobId}: ${action} on ${started.count} contact(s).\n`);
        const bar = new cliProgress.SingleBar({ format: `${action} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`, hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
        bar.start(started.count, 0);
        let finished;
        try {
          finished = await runBulkJobHere(ctx, started.jobId, (done, total) => bar.update(done, { total }));
        } finally {
          bar.stop();
        }
        if (finished.status !== 'succeeded') throw new CliError(`Job ${started.jobId} ${finished.status}: ${finished.error ?? ''}`, exitCodes.failed);
        printReport(JSON.parse(finished.result!) as BulkReport);
      });
    });
  }

  program
    .command('lifecycle-settings')
    .description("show or change what the contact's own Delete Account does and whether the suppression list is kept")
    .requiredOption('--institution <slug|id>', 'the institution')
    .option('--self-service-delete <soft|expunge>', 'soft (default) or expunge')
    .option('--suppression-list <on|off>', 'keep keyed hashes of expunged emails and phones')
    .action(async (opts: { institution: string; selfServiceDelete?: string; suppressionList?: string }) => {
      if (opts.suppressionList !== undefined && !['on', 'off'].includes(opts.suppressionList)) throw new CliError(`--suppression-list must be on or off (got "${opts.suppressionList}").`);
      await withContext(async (ctx) => {
        const institution = await institutionOf(ctx, opts.institution);
        const before = await readLifecycleSettings(ctx.db, institution.id);
        let after = before;
        if (opts.selfServiceDelete !== undefined || opts.suppressionList !== undefined) {
          const next = parseFlags(lifecycleSettingsSchema, {
            ...before,
            ...(opts.selfServiceDelete !== undefined ? { selfServiceDelete: opts.selfServiceDelete } : {}),
            ...(opts.suppressionList !== undefined ? { suppressionList: opts.suppressionList === 'on' } : {}),
          });
          after = await ctx.db.transaction().execute(async (trx) => {
            const written = await writeLifecycleSettings(trx, institution.id, next);
            await recordAudit(ctx, trx, { institutionId: institution.id, actor: cliActor, action: 'lifecycle.settings', target: { type: 'institution', id: institution.id }, before, after: written });
            return written;
          });
        }
        process.stdout.write(JSON.stringify(after) + '\n');
      });
    });
}
