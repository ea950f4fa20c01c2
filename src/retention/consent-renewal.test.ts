import { expect, it } from 'vitest';
import { describeEachEngine, drainJobs } from '../../test/support/harness.ts';
import { runItems } from './inactive-runs.ts';
import { newContact, post, recencyOfContact } from './test-support.ts';


describeEachEngine('consent renewal (seed 004 steps)', (h) => {
  it('simulate, target contacts by recency date, email the renewal link; the click is activity and the batch spares them', async () => {
    h.clock.set('2022-06-01T09:00:00.000Z');
    const t = await h.tenant();
    const stale = await newContact(h, t, 'Stella', 'Stale', { email: 'stella@renew.example', optInStatus: 'opted_in' });
    const silent = await newContact(h, t, 'Silas', 'Silent', { email: 'silas@renew.example', optInStatus: 'opted_in' });
    h.clock.set('2025-03-01T09:00:00.000Z');
    const fresh = await newContact(h, t, 'Fred', 'Fresh', { email: 'fred@renew.example' });
    h.clock.set('2026-01-15T09:00:00.000Z');

    // Step 2: the batch in simulation mode with 24 months.
    const sim = await post(h, t.admin.token, '/api/retention/runs', { months: 24 }, 202);
    await drainJobs(h);
    expect((await runItems(h.ctx.db, sim.id)).map((i) => i.contactId).sort()).toEqual([stale, silent].sort());

    // Steps 1 and 4: the renewal email with its tracked link to the consent-renewal page.
    const wf = await post(h, t.admin.token, '/api/workflow-templates/consent_renewal', {});
    // Step 3: contacts whose recency is before a date (YYYYMMDD), 24 months ago.
    const bad = await h.request(t.admin.token, { method: 'POST', url: '/api/retention/consent-renewal', payload: { workflowId: wf.id, recencyBefore: '2024-13-45' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('recencyBefore');
    const enrolled = await post(h, t.admin.token, '/api/retention/consent-renewal', { workflowId: wf.id, recencyBefore: '20240115' }, 200);
    expect(enrolled).toEqual({ matched: 2, enrolled: 2 });
    await drainJobs(h);
    const mail = await h.ctx.db.selectFrom('outbox_messages').select(['contact_id', 'text_body']).where('institution_id', '=', t.institutionId).where('contact_id', '=', stale).execute();
    expect(mail).toHaveLength(1);
    const link = /\/p\/renew\/[A-Za-z0-9_.-]+/.exec(mail[0].text_body!)![0];

    // Step 5: the click counts as activity.
    h.clock.advanceDays(3);
    const page = await h.app.inject({ method: 'GET', url: link });
    expect(page.statusCode).toBe(200);
    expect(await recencyOfContact(h, t.admin.token, stale)).toMatchObject({ recency: h.clock.now().toISOString(), reason: 'link_click' });

    const exec = await post(h, t.admin.token, '/api/retention/runs', { months: 24, execute: true }, 202);
    await drainJobs(h);
    expect((await runItems(h.ctx.db, exec.id)).map((i) => i.contactId)).toEqual([silent]);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${stale}` })).json().firstName).toBe('Stella');
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${fresh}` })).statusCode).toBe(200);
    expect((await h.request(t.admin.token, { method: 'GET', url: `/api/contacts/${silent}` })).statusCode).toBeGreaterThanOrEqual(404);
  });
});
