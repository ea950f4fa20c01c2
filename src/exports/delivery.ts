import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { AppContext } from '../context.ts';
import { recordAudit, systemActor } from '../audit/audit-log.ts';
import { Problem } from '../http/problem.ts';
import { deleteFileKey, exportFilePath, hashLinkToken, linkTokenPattern, readFileKey, removeFile } from './files.ts';
import { loadExport, moveExport, scrubbedScope, type ExportRow } from './exports.ts';
import { notifyParties, type Party } from './notify.ts';
import { openStream } from './sealed-file.ts';
import type { ExportScope } from './sources.ts';

export const ALREADY_DOWNLOADED =
  'This download link was already used. An export can be downloaded once: its file and key were destroyed after the first download. Ask for a new export if you need the data again.';
export const LINK_EXPIRED = 'This download link has expired, and the export was destroyed unread. Ask for a new export if you still need the data.';
export const LINK_UNKNOWN = 'This download link is not valid. Check that you copied the whole link from the email.';

function goneMessage(row: ExportRow): string {
  if (row.downloaded_at) return ALREADY_DOWNLOADED;
  // Expiry destroys at or after the link's end; an erasure destroys before it.
  if (row.status === 'expired' || (row.link_expires_at && row.destroyed_at && row.destroyed_at >= row.link_expires_at)) return LINK_EXPIRED;
  return 'This export is no longer available: it was destroyed before delivery (for example because a person in it was erased). Ask for a new export.';
}

/** Who is told that a delivered or expired export is gone. */
function partiesOf(row: ExportRow): Party[] {
  return row.requested_by ? ['requester'] : row.deliver_to === 'contact' ? ['contact'] : [];
}

/** Keeps the key and file from outliving the export on the storage level too (SQLite checkpoint, PostgreSQL vacuum). */
async function compactKeys(ctx: AppContext): Promise<void> {
  try {
    await ctx.store.compact(['export_keys']);
  } catch (error) {
    ctx.log.warn({ error: error instanceof Error ? error.message : String(error) }, 'compacting export keys failed; retried at the next destruction');
  }
}

/** ready → expired → destroyed: key deleted, file removed, requester told. */
export async function expireExport(ctx: AppContext, row: ExportRow): Promise<boolean> {
  const done = await ctx.db.transaction().execute(async (trx) => {
    const current = await loadExport(trx, row.id, undefined, true);
    if (!current || current.status !== 'ready') return false;
    const expired = await moveExport(ctx, trx, current, 'expired', systemActor, {}, { expiredAt: current.link_expires_at });
    await deleteFileKey(trx, row.id);
    removeFile(exportFilePath(ctx, row.id));
    const gone = await moveExport(ctx, trx, expired, 'destroyed', systemActor, { destroyed_at: ctx.clock.now().toISOString(), scope: JSON.stringify(scrubbedScope(JSON.parse(expired.scope) as ExportScope)) }, { cause: 'expired' });
    await notifyParties(ctx, trx, gone, { type: 'expired' }, partiesOf(gone));
    return true;
  });
  if (done) await compactKeys(ctx);
  return done;
}

/** approved/producing → failed when its job will never run again (cancelled, or failed for good). */
async function failOrphans(ctx: AppContext, limit: number): Promise<number> {
  const orphans = await ctx.db
    .selectFrom('exports')
    .innerJoin('jobs', 'jobs.id', 'exports.job_id')
    .selectAll('exports')
    .where('exports.status', 'in', ['approved', 'producing'])
    .where('jobs.status', 'in', ['cancelled', 'failed'])
    .limit(limit)
    .execute();
  let n = 0;
  for (const row of orphans) {
    const failed = await ctx.db.transaction().execute(async (trx) => {
      const current = await loadExport(trx, row.id, undefined, true);
      if (!current || (current.status !== 'approved' && current.status !== 'producing')) return false;
      const step = current.status === 'approved' ? await moveExport(ctx, trx, current, 'producing', systemActor, {}, { jobId: current.job_id }) : current;
      const gone = await moveExport(ctx, trx, step, 'failed', systemActor, { scope: JSON.stringify(scrubbedScope(JSON.parse(step.scope) as ExportScope)) }, { cause: 'job_ended' });
      await deleteFileKey(trx, row.id);
      removeFile(exportFilePath(ctx, row.id));
      await notifyParties(ctx, trx, gone, { type: 'failed' }, partiesOf(gone));
      return true;
    });
    if (failed) n++;
  }
  return n;
}

/** The worker's periodic task: every ready export whose link has expired is destroyed; exports whose job ended without them fail. */
export async function destroyExpiredExports(ctx: AppContext, limit = 50): Promise<number> {
  const orphaned = await failOrphans(ctx, limit);
  const due = await ctx.db
    .selectFrom('exports')
    .selectAll()
    .where('status', '=', 'ready')
    .where('link_expires_at', '<=', ctx.clock.now().toISOString())
    .orderBy('link_expires_at')
    .limit(limit)
    .execute();
  let n = orphaned;
  for (const row of due) if (await expireExport(ctx, row)) n++;
  return n;
}

export interface Delivery {
  exportId: string;
  fileName: string;
  stream: Readable;
}

/**
 * The one download an export gets. Claiming it (ready → downloaded) is one conditional update, so
 * of two concurrent requests exactly one wins; the key is read and deleted in that same
 * transaction, and the file is unlinked as soon as it is open, so from then on nothing of the
 * export exists except the bytes on their way to the one reader. Later requests get 410.
 */
export async function claimDownload(ctx: AppContext, token: string): Promise<Delivery> {
  if (!linkTokenPattern.test(token)) throw new Problem(404, LINK_UNKNOWN);
  const hash = hashLinkToken(ctx, token);
  const found = await ctx.db.selectFrom('exports').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  if (!found) throw new Problem(404, LINK_UNKNOWN);
  const now = ctx.clock.now().toISOString();
  if (found.status === 'ready' && found.link_expires_at! <= now) {
    await expireExport(ctx, found);
    throw new Problem(410, LINK_EXPIRED);
  }
  if (found.status !== 'ready') throw new Problem(410, goneMessage(found));

  const claimed = await ctx.db.transaction().execute(async (trx) => {
    const won = await trx
      .updateTable('exports')
      .set({ status: 'downloaded', downloaded_at: now, updated_at: now })
      .where('id', '=', found.id)
      .where('status', '=', 'ready')
      .where('token_hash', '=', hash)
      .executeTakeFirst();
    if (Number(won.numUpdatedRows) !== 1) return null;
    const key = await readFileKey(ctx, trx, found.id);
    await deleteFileKey(trx, found.id);
    await recordAudit(ctx, trx, {
      institutionId: found.institution_id,
      actor: { userId: null, label: 'download-link' },
      action: 'export.downloaded',
      target: { type: 'export', id: found.id },
      meta: { from: 'ready', to: 'downloaded', kind: found.kind },
    });
    return { key, row: { ...found, status: 'downloaded' as const, downloaded_at: now, updated_at: now } };
  });
  if (!claimed) throw new Problem(410, ALREADY_DOWNLOADED);

  const file = exportFilePath(ctx, found.id);
  let handle: fs.promises.FileHandle | null = null;
  try {
    handle = claimed.key ? await fs.promises.open(file, 'r') : null;
  } catch {
    handle = null;
  }
  removeFile(file);
  await ctx.db.transaction().execute(async (trx) => {
    const gone = await moveExport(ctx, trx, claimed.row, 'destroyed', systemActor, { destroyed_at: now, scope: JSON.stringify(scrubbedScope(JSON.parse(claimed.row.scope) as ExportScope)) }, { cause: 'downloaded' });
    await notifyParties(ctx, trx, gone, { type: 'downloaded' }, partiesOf(gone));
  });
  await compactKeys(ctx);
  if (!handle || !claimed.key) {
    ctx.log.error({ exportId: found.id }, 'export file or key missing at download');
    throw new Problem(410, 'This export can no longer be delivered: its file is missing. It has been destroyed; ask for a new export.');
  }
  const source = handle.createReadStream({ highWaterMark: 256 * 1024 });
  const stream = openStream(claimed.key, found.id);
  source.on('error', (error) => stream.destroy(error));
  stream.on('close', () => source.destroy());
  source.pipe(stream);
  const date = (found.ready_at ?? now).slice(0, 10);
  const fileName = found.kind === 'subject_access' ? `personal-data-${date}.zip` : `lethe-export-${date}-${found.id.slice(-8)}.zip`;
  return { exportId: found.id, fileName, stream };
}
