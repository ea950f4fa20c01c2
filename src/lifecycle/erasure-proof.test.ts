import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, drainJobs, type Harness } from '../../test/support/harness.ts';
import { startSmtpSink } from '../../test/support/smtp.ts';
import { pgClient, pgPageHits, pgTupleHits, sqliteHits } from '../../test/support/storage-scan.ts';
import { smtpTransport } from '../mail/transport.ts';
import { nextScrubAt } from './storage.ts';
import { richContact } from './test-fixtures.ts';

let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
beforeAll(async () => {
  smtp = await startSmtpSink();
});
afterAll(() => smtp.close());

const drainWorker = (h: Harness) => drainJobs(h, smtpTransport(smtp.url));

describeEachEngine('proof of erasure: expunged values are nowhere in the storage', (h) => {
  it('finds none of an expunged contact’s values in the database files, WAL, dead tuples or free space, while another contact’s stay', async () => {
    const t = await h.tenant();
    const marker = `Qzx${Date.now().toString(36)}`;
    const keep = await richContact(h, t, `${marker}Keep`);
    const gone = await richContact(h, t, `${marker}Gone`);
    const bulk = await richContact(h, t, `${marker}Bulk`);
    const self = await richContact(h, t, `${marker}Self`);
    const goneValues = [...gone.values, ...bulk.values, ...self.values];

    // The test can fail: before erasure the values are in the storage.
    if (h.kind === 'sqlite') {
      await h.ctx.store.compact();
      expect(sqliteHits(h, goneValues).length).toBeGreaterThan(0);
    } else {
      const client = await pgClient(h);
      try {
        expect((await pgTupleHits(client, goneValues)).length).toBeGreaterThan(0);
      } finally {
        await client.end();
      }
    }

    // Three ways in: a staff expunge, a bulk expunge job, and the contact's own Delete Account.
    const sent = smtp.received.length;
    const res = await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${gone.id}/expunge`, payload: { reason: 'contact_request' } });
    expect(res.statusCode, res.body).toBe(200);
    const job = await h.request(t.admin.token, { method: 'POST', url: '/api/contacts/bulk', payload: { filter: { ids: [bulk.id] }, action: { action: 'expunge', reason: 'retention' } } });
    expect(job.statusCode, job.body).toBe(202);
    await h.request(t.admin.token, { method: 'PATCH', url: '/api/lifecycle/settings', payload: { selfServiceDelete: 'expunge' } });
    const slug = (await h.ctx.db.selectFrom('institutions').select('slug').where('id', '=', t.institutionId).executeTakeFirstOrThrow()).slug;
    const profile = `/api/public/institutions/${slug}/profile`;
    const asked = smtp.received.length;
    await h.request(null, { method: 'POST', url: `${profile}/code`, payload: { email: self.email } });
    await drainWorker(h);
    const code = /\b(\d{6})\b/.exec(smtp.received.slice(asked).find((m) => m.to.includes(self.email) && m.subject.startsWith('Your code'))!.text)![1];
    const session = await h.request(null, { method: 'POST', url: `${profile}/session`, payload: { email: self.email, code } });
    const deleted = await h.request(null, { method: 'DELETE', url: profile, headers: { 'x-lethe-contact-session': session.json().token } });
    expect(deleted.json()).toEqual({ outcome: 'expunged', confirmationEmail: true });
    // The confirmation goes out before the last copy of the address is destroyed.
    await drainWorker(h);
    for (const c of [gone, bulk, self]) {
      expect(smtp.received.slice(sent).filter((m) => m.to.includes(c.email) && m.subject === 'Your data has been erased'), c.email).toHaveLength(1);
    }

    if (h.kind === 'sqlite') {
      expect(sqliteHits(h, goneValues)).toEqual([]);
      expect(sqliteHits(h, keep.values).length).toBeGreaterThan(0);
    } else {
      const client = await pgClient(h);
      try {
        // The VACUUM erasure runs leaves no tuple, live or dead, and no index entry holding a value…
        expect(await pgTupleHits(client, goneValues)).toEqual([]);
        // …and the scrub (at the next quiet hour) rewrites the pages, so not even free space keeps one.
        h.clock.set(nextScrubAt(h.clock.now()));
        await drainWorker(h);
        expect(await pgPageHits(client, goneValues)).toEqual([]);
        expect((await pgTupleHits(client, keep.values)).length).toBeGreaterThan(0);
      } finally {
        await client.end();
      }
    }
    expect(h.logLines.join('\n')).not.toContain(marker);
  });
});
