import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import type { AppContext } from '../../context.ts';
import { cliActor } from '../../audit/audit-log.ts';
import { withContext } from '../../cli/context.ts';
import { CliError, exitCodes } from '../../cli/errors.ts';
import { duplicatePolicies, type DuplicatePolicy } from '../../db/schema.ts';
import { createOrResumeFileImport, importErrorLines, ImportTakenOver, runImport, summaryOf } from './imports.ts';
import { MappingOptionError, parseMappingOption } from './mapping-option.ts';
import { importProgress } from './progress-output.ts';

interface ImportCliOptions {
  org: string;
  institution?: string;
  mapping?: string;
  onDuplicate: string;
  errors?: string;
}

/** --org by id, or by name (with --institution when several institutions have one of that name). */
async function resolveOrganization(ctx: AppContext, org: string, institution?: string) {
  let q = ctx.db
    .selectFrom('organizations')
    .innerJoin('institutions', 'institutions.id', 'organizations.institution_id')
    .select(['organizations.id', 'organizations.name', 'organizations.institution_id', 'institutions.slug']);
  if (institution) q = q.where((eb) => eb.or([eb('institutions.slug', '=', institution.toLowerCase()), eb('institutions.id', '=', institution)]));
  const all = await q.execute();
  const byId = all.filter((o) => o.id === org);
  const matches = byId.length ? byId : all.filter((o) => o.name.toLowerCase() === org.trim().toLowerCase());
  if (matches.length === 0) {
    throw new CliError(`--org: no organization has the id or name "${org}"${institution ? ` in ${institution}` : ''}.`, exitCodes.notFound);
  }
  if (matches.length > 1) {
    throw new CliError(`--org "${org}" names organizations in several institutions (${matches.map((m) => m.slug).join(', ')}); add --institution <slug> or give the organization's id.`);
  }
  return matches[0];
}

const number = (n: number) => n.toLocaleString('en-US');

export async function importCommand(file: string, opts: ImportCliOptions): Promise<void> {
  if (!(duplicatePolicies as readonly string[]).includes(opts.onDuplicate)) {
    throw new CliError(`--on-duplicate must be one of ${duplicatePolicies.join(', ')} (got "${opts.onDuplicate}").`);
  }
  let mapping;
  try {
    mapping = parseMappingOption(opts.mapping);
  } catch (error) {
    if (error instanceof MappingOptionError) throw new CliError(`--mapping: ${error.message}`);
    throw error;
  }
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new CliError(`${file}: no such file.`, exitCodes.notFound);

  await withContext(async (ctx) => {
    const org = await resolveOrganization(ctx, opts.org, opts.institution);
    const { row, resumed } = await createOrResumeFileImport(ctx, file, {
      institutionId: org.institution_id,
      organizationId: org.id,
      fileName: path.basename(file),
      mapping,
      onDuplicate: opts.onDuplicate as DuplicatePolicy,
      actor: cliActor,
    });
    if (resumed) process.stderr.write(`Resuming import ${row.id} after row ${number(Number(row.rows_done) + 1)} (the rows before it were imported by an earlier run).\n`);
    else process.stderr.write(`Import ${row.id}: ${path.basename(file)} into ${org.name} (${org.slug}).\n`);

    const progress = importProgress(process.stderr, Number(row.file_bytes), Number(row.rows_done));
    let finished;
    try {
      finished = await runImport(ctx, row.id, { onProgress: (done, bytes) => progress.update(done, bytes) });
      progress.update(Number(finished.rows_done), Number(row.file_bytes));
    } catch (error) {
      if (error instanceof ImportTakenOver) throw new CliError(`Import ${row.id} is being run by another process; this one stopped without writing anything.`, exitCodes.conflict);
      throw error;
    } finally {
      progress.stop();
    }

    const s = summaryOf(finished);
    const lines = [
      `Imported ${path.basename(file)} (${number(Number(finished.rows_done))} rows): ${number(s.created)} created, ${number(s.updated)} updated, ${number(s.skippedDuplicate)} skipped as duplicates, ${number(s.invalid)} invalid` +
        `${s.suppressed ? `, ${number(s.suppressed)} suppressed` : ''}${s.blank ? `, ${number(s.blank)} blank` : ''}.`,
    ];
    if (opts.errors) {
      const out = fs.createWriteStream(opts.errors);
      out.write(stringify([['row', 'field', 'message']]));
      for await (const page of importErrorLines(ctx.db, finished.id)) out.write(stringify(page.map((e) => [e.row, e.field, e.message])));
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      if (s.invalid) lines.push(`The rows that were not imported and why: ${opts.errors}.`);
    } else if (s.invalid) {
      lines.push(`${number(s.invalid)} row(s) were not imported; list them with --errors <file.csv>, or GET /api/imports/${finished.id}/errors.csv.`);
    }
    process.stdout.write(lines.join('\n') + '\n');
  });
}

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description('import contacts from a CSV file (source: bulk_import); rerun the same command to resume an interrupted import')
    .argument('<file>', 'a UTF-8 CSV file whose first row names the columns')
    .requiredOption('--org <id|name>', 'the organization the contacts come from (its institution is the one imported into)')
    .option('--institution <slug|id>', 'the institution, when several have an organization of that name')
    .option('--mapping <header=field,…>', 'override the automatic column mapping, e.g. "Surname=lastName,Cell=mobilePhone,Notes=" (an empty field skips the column); fields: firstName, lastName, email, mobilePhone, ssn, employer, organization, attr:<key>')
    .option('--on-duplicate <policy>', 'what a row matching an existing contact does: skip, fill_empty (only fills what the contact lacks) or overwrite', 'skip')
    .option('--errors <file.csv>', 'write the error report (row, field, message) to this file')
    .action(importCommand);
}
