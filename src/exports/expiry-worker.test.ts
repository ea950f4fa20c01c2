import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { contactsApi } from '../../test/support/contacts.ts';
import { startSmtpSink } from '../../test/support/smtp.ts';
import { startLetheWorker } from '../jobs/registry.ts';
import { smtpTransport } from '../mail/transport.ts';
import { exportFilePath } from './files.ts';

/**
 * An expired export is destroyed by the worker that `lethe worker` (and `lethe serve`) runs,
 * without anyone calling the expiry by hand: this proves the task is registered with the worker.
 */
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
beforeAll(async () => {
  smtp = await startSmtpSink();
});
afterAll(() => smtp.close());

describeEachEngine('the worker destroys expired exports on its own', (h) => {
  async function until(what: string, check: () => Promise<boolean>): Promise<void> {
    for (let waited = 0; waited < 20_000; waited += 25) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`timed out waiting for ${what}`);
  }
  const statusOf = async (id: string) => (await h.ctx.db.selectFrom('exports').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

  it('produces an export, then destroys it once its link has expired: file and key gone, the requester told', async () => {
    const t = await h.tenant();
    const staff = await h.user(t, 'staff');
    await contactsApi(h, t.admin.token).createContact({ firstName: 'Vera', lastName: 'Expiry', email: 'vera.expiry@example.net' });
    const worker = startLetheWorker(h.ctx, { pollMs: 20, transport: smtpTransport(smtp.url) });
    try {
      const res = await h.request(staff.token, { method: 'POST', url: '/api/exports', payload: { scope: { type: 'contacts', filters: { q: 'vera' } } } });
      expect(res.statusCode, res.body).toBe(202);
      const id = res.json().id as string;
      await until('the export to be ready', async () => (await statusOf(id)) === 'ready');
      expect(fs.existsSync(exportFilePath(h.ctx, id))).toBe(true);

      h.clock.advanceDays(6);
      await new Promise((r) => setTimeout(r, 200)); // several worker rounds: not expired yet
      expect(await statusOf(id)).toBe('ready');

      h.clock.advanceDays(1);
      await until('the export to be destroyed', async () => (await statusOf(id)) === 'destroyed');
      expect(fs.existsSync(exportFilePath(h.ctx, id))).toBe(false);
      expect(await h.ctx.db.selectFrom('export_keys').select('export_id').where('export_id', '=', id).executeTakeFirst()).toBeUndefined();
      const row = await h.ctx.db.selectFrom('exports').select(['downloaded_at', 'destroyed_at']).where('id', '=', id).executeTakeFirstOrThrow();
      expect(row.downloaded_at).toBeNull();
      expect(row.destroyed_at).not.toBeNull();
      await until('the requester to be told', async () => smtp.received.some((m) => m.to.includes(staff.email) && m.text.includes(id) && /expired unread/.test(m.subject)));
    } finally {
      await worker.stop();
    }
  }, 60_000);
});
