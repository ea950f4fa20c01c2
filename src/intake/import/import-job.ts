import type { JobHandler } from '../../jobs/worker.ts';
import { JobLostError } from '../../jobs/worker.ts';
import { ImportRefused, runImport, stopImport, summaryOf } from './imports.ts';

/**
 * The worker side of an uploaded import. A retried attempt (after a crash or a lost lease)
 * resumes from the import's own checkpoint; a file or mapping problem is final (no retry can
 * fix it), so the job fails at once instead of backing off.
 */
export const importJobHandler: JobHandler = async (ctx, job, control) => {
  const { importId } = JSON.parse(job.payload) as { importId: string };
  const total = job.progress_total === null ? null : Number(job.progress_total);
  try {
    const row = await runImport(ctx, importId, { onProgress: (done) => control.progress(done, total, { rowsDone: done }) });
    return { importId, status: row.status, rows: Number(row.rows_done), ...summaryOf(row) };
  } catch (error) {
    if (error instanceof JobLostError) {
      const current = await ctx.db.selectFrom('jobs').select('status').where('id', '=', job.id).executeTakeFirst();
      if (current?.status === 'cancelled') await stopImport(ctx, importId, 'The import was cancelled; the rows handled before stay imported.', 'cancelled');
      throw error;
    }
    if (error instanceof ImportRefused) {
      await ctx.db.updateTable('jobs').set({ max_attempts: job.attempts }).where('id', '=', job.id).execute();
    } else if (job.attempts >= job.max_attempts) {
      await stopImport(ctx, importId, `The import stopped after ${job.attempts} attempts: ${error instanceof Error ? error.message : String(error)}`, 'failed');
    }
    throw error;
  }
};
