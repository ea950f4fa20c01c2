import type { AppContext, Db } from '../context.ts';
import { marketingRefusals } from '../mail/policy.ts';
import { deferred, type DueRun } from './bookkeeping.ts';
import { applyStep, stoppedContacts } from './run-step.ts';
import { stepContactColumns, type StepContact, type StepRun } from './steps.ts';

/** Steps that need nothing outside the database and change nothing a later step of the batch reads. */
export const batchable = new Set(['send_email', 'wait', 'condition', 'notify_staff']);

export interface BatchItem {
  e: DueRun;
  run: StepRun;
}

/** Look-ups use one bound parameter per id: a batch's ids go in slices of 500. */
const IDS_PER_LOOKUP = 500;

async function inSlices<T>(ids: readonly string[], lookUp: (slice: string[]) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_LOOKUP) out.push(await lookUp(ids.slice(i, i + IDS_PER_LOOKUP)));
  return out;
}

/** What the batch's steps read about their contacts: a statement per kind for the whole batch. */
async function loadContacts(trx: Db, items: readonly BatchItem[]) {
  const ids = [...new Set(items.flatMap((i) => (i.e.contact_id ? [i.e.contact_id] : [])))];
  const marketing = [...new Set(items.flatMap((i) => (i.e.contact_id && i.run.step.type === 'send_email' && i.run.step.send_email.category === 'marketing' ? [i.e.contact_id] : [])))];
  const contacts = new Map<string, StepContact>();
  for (const rows of await inSlices(ids, (slice) => trx.selectFrom('contacts').select(stepContactColumns).where('id', 'in', slice).execute())) for (const c of rows) contacts.set(c.id, c);
  const stopped = new Map((await inSlices(ids, (slice) => stoppedContacts(trx, slice))).flatMap((m) => [...m]));
  const refusals = new Map((await inSlices(marketing, (slice) => marketingRefusals(trx, slice))).flatMap((m) => [...m]));
  return { contacts, stopped, refusals };
}

/**
 * Runs a batch of batchable steps in the caller's transaction, which holds their rows (see
 * engine.ts): the contacts read in a statement per kind, and the emails, history lines and moves
 * written set-based (bookkeeping.ts). Runs whose last step was a wait (`finished`)
 * complete in one UPDATE. Returns how many steps ran.
 *
 * A step that throws fails the whole batch, and the caller runs each step again on its own. A
 * savepoint around every step would cost two statements each, and the set-based writes at the
 * end could not be undone step by step anyway.
 */
export async function applyBatch(ctx: AppContext, trx: Db, items: readonly BatchItem[], finished: readonly DueRun[]): Promise<number> {
  const { contacts, stopped, refusals } = await loadContacts(trx, items);
  const books = deferred(ctx, trx, refusals);
  for (const { e, run } of items) {
    const contactId = e.contact_id;
    await applyStep(ctx, trx, books, e, run, contactId ? contacts.get(contactId) : undefined, contactId ? (stopped.get(contactId) ?? null) : null, null);
  }
  const now = ctx.clock.now().toISOString();
  const over = { state: 'completed' as const, open: null, step_id: null, next_run_at: null, finished_at: now, updated_at: now, lease_owner: null, lease_expires_at: null };
  for (const e of finished) await books.move(e.id, over);
  await books.flush();
  return items.length + finished.length;
}
