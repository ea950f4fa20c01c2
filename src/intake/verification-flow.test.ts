import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, type SeededTenant } from '../../test/support/harness.ts';
import { startSmtpSink } from '../../test/support/smtp.ts';
import { dispatchDueMail } from '../mail/dispatcher.ts';
import { smtpTransport } from '../mail/transport.ts';
import { CODE_TTL_MS, MAX_ATTEMPTS, VERIFICATION_MESSAGES } from './rules/verification.ts';
import { purgeAbandonedApplications } from './verifications.ts';
import { dumpDatabase, intakeApi, tableCounts } from './intake-test-api.ts';

/**
 * Application verification (seed 002) end to end: the apply endpoint, the code arriving over a
 * real SMTP connection at the address on the existing profile, entering it, and every refusal.
 */

let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
beforeAll(async () => {
  smtp = await startSmtpSink();
});
afterAll(() => smtp.close());

const SSN = '234-56-7890';
const verifiedFields = [
  { field: 'firstName', required: true },
  { field: 'lastName', required: true },
  { field: 'email', required: true },
  { field: 'mobilePhone', required: false },
  { field: 'ssn', required: false },
];

describeEachEngine('application verification', (h) => {
  let tenant: SeededTenant;
  let api: ReturnType<typeof intakeApi>;
  let n = 0;
  const unique = () => `${++n}-${h.kind}`;

  /** Sends due mail over SMTP and returns the code in the newest message to `to`. */
  async function codeSentTo(to: string): Promise<string> {
    const transport = smtpTransport(smtp.url);
    try {
      await dispatchDueMail(h.ctx, transport);
    } finally {
      transport.close();
    }
    const mail = smtp.received.filter((m) => m.to.includes(to)).at(-1);
    expect(mail, `a message to ${to}`).toBeDefined();
    expect(mail!.subject).toBe('Your verification code');
    return /\b(\d{6})\b/.exec(mail!.text)![1];
  }

  const mailsTo = (address: string) => smtp.received.filter((m) => m.to.includes(address)).length;

  /** A verified form with rule Email + Last Name, and Ada on file. */
  async function setUp(opts: { mergePolicy?: 'fill_empty' | 'overwrite'; rule?: Record<string, unknown>; fields?: unknown[]; existing?: Record<string, unknown> } = {}) {
    const id = unique();
    const email = `ada.${id}@example.org`;
    const form = await api.createForm({
      name: `Verified ${id}`,
      verificationEnabled: true,
      duplicateRule: opts.rule ?? { identifier: 'email', lastName: true, ssn: 'none' },
      mergePolicy: opts.mergePolicy ?? 'fill_empty',
      fields: opts.fields ?? verifiedFields,
    });
    const existing = await api.createContact({ firstName: 'Ada', lastName: 'Lovelace', email, ...(opts.existing ?? {}), onDuplicate: 'create_anyway' });
    return { form, existing, email, id };
  }

  async function startVerification(opts: Parameters<typeof setUp>[0] = {}, payload: Record<string, unknown> = {}) {
    const s = await setUp(opts);
    const res = await api.apply(s.form.id, { firstName: 'Ada', lastName: 'LOVELACE', email: ` ${s.email.toUpperCase()} `, ...payload });
    expect(res.statusCode, res.body).toBe(202);
    const body = res.json();
    const code = await codeSentTo(s.email);
    return { ...s, verificationId: body.verificationId as string, applicationId: body.applicationId as string, code, body };
  }

  it('sets up a tenant', async () => {
    tenant = await h.tenant();
    api = intakeApi(h, tenant);
  });

  it('default message: the code goes to the existing address, nothing changes until it is entered, then the application merges (fill empty), audited', async () => {
    const s = await setUp();
    const before = await tableCounts(h, ['contacts']);
    const res = await api.apply(s.form.id, { firstName: 'Ada', lastName: 'LOVELACE', email: ` ${s.email.toUpperCase()} `, mobilePhone: '(212) 310-0001', ssn: SSN });
    expect(res.statusCode, res.body).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({ status: 'verification_required', outcome: 'default', message: VERIFICATION_MESSAGES.default });
    expect(Date.parse(body.codeExpiresAt) - h.clock.now().getTime()).toBe(CODE_TTL_MS);
    expect(await tableCounts(h, ['contacts'])).toEqual(before);
    expect(await api.contact(s.existing.id)).toEqual(s.existing);
    expect((await api.applications(s.existing.id)).map((a) => a.status)).toEqual(['pending_verification']);

    // The outbox holds a transactional message to the address on the profile (as stored, not as typed).
    const outbox = await h.ctx.db.selectFrom('outbox_messages').selectAll().where('contact_id', '=', s.existing.id).execute();
    expect(outbox).toMatchObject([{ category: 'transactional', template: 'application.verification_code', to_address: s.email }]);
    const code = await codeSentTo(s.email);
    expect(await api.contact(s.existing.id)).toEqual(s.existing);

    const wrong = await api.verify(s.form.id, body.verificationId, code === '000000' ? '111111' : '000000');
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json()).toMatchObject({ reason: 'wrong_code', attemptsLeft: MAX_ATTEMPTS - 1, errors: [{ field: 'code' }] });
    expect(wrong.json().detail).toMatch(/not correct.*4 attempts left/);
    expect(await api.contact(s.existing.id)).toEqual(s.existing);

    h.clock.advance(60_000);
    const ok = await api.verify(s.form.id, body.verificationId, ` ${code.slice(0, 3)} ${code.slice(3)} `);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'verified', applicationId: body.applicationId });
    const merged = await api.contact(s.existing.id);
    // fill_empty: the name and email on file stay; the phone and SSN the profile lacked are added.
    expect(merged).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace', email: s.email, mobileE164: '+12123100001', ssnOnFile: true });
    expect((await api.applications(s.existing.id)).map((a) => a.status)).toEqual(['merged']);

    const [entry] = await api.audit(`action=application.merge&targetId=${s.existing.id}`);
    expect(entry.before).toEqual({ mobilePhone: null, ssn: null });
    expect(entry.after).toEqual({ mobilePhone: '+12123100001', ssn: '[on file]' });
    expect(entry.meta).toMatchObject({ applicationId: body.applicationId, policy: 'fill_empty' });
    expect(await api.audit(`action=application.verified&targetId=${body.applicationId}`)).toHaveLength(1);

    const again = await api.verify(s.form.id, body.verificationId, code);
    expect(again.statusCode).toBe(409);
    expect(again.json().reason).toBe('already_verified');
  });

  it('a match through the mobile phone still sends the code to the address on file, never to the one typed; overwrite replaces the profile', async () => {
    const s = await setUp({
      mergePolicy: 'overwrite',
      rule: { identifier: 'email_or_mobile', lastName: false, ssn: 'none' },
      fields: verifiedFields.map((f) => (f.field === 'mobilePhone' ? { ...f, required: true } : f)),
      existing: { mobilePhone: '+1 212 310 0002' },
    });
    const typed = `someone.new.${s.id}@example.org`;
    const res = await api.apply(s.form.id, { firstName: 'Adeline', lastName: 'Byron', email: typed, mobilePhone: '212-310-0002' });
    expect(res.statusCode, res.body).toBe(202);
    const code = await codeSentTo(s.email);
    expect(mailsTo(typed)).toBe(0);
    const ok = await api.verify(s.form.id, res.json().verificationId, code);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(await api.contact(s.existing.id)).toMatchObject({ firstName: 'Adeline', lastName: 'Byron', email: typed, mobileE164: '+12123100002' });
    const [entry] = await api.audit(`action=application.merge&targetId=${s.existing.id}`);
    expect(entry.before).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace', email: s.email });
    expect(entry.after).toMatchObject({ firstName: 'Adeline', lastName: 'Byron', email: typed });
  });

  it('default message when a talent exists with the SSN: the code goes to that talent\'s address', async () => {
    const s = await setUp({
      rule: { identifier: 'email', lastName: false, ssn: 'full' },
      fields: verifiedFields.map((f) => (f.field === 'ssn' ? { ...f, required: true } : f)),
      existing: { ssn: '345-67-8901' },
    });
    const typed = `other.${s.id}@example.org`;
    const res = await api.apply(s.form.id, { firstName: 'Ada', lastName: 'Lovelace', email: typed, ssn: '345678901' });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ outcome: 'default', message: VERIFICATION_MESSAGES.default });
    await codeSentTo(s.email);
    expect(mailsTo(typed)).toBe(0);
  });

  it('"full stop" when a talent matches but no email was provided, and when the profile has no address to send a code to; nothing is stored', async () => {
    const mobileRule = { identifier: 'mobile', lastName: false, ssn: 'none' };
    const mobileFields = [
      { field: 'firstName', required: true },
      { field: 'lastName', required: true },
      { field: 'email', required: false },
      { field: 'mobilePhone', required: true },
    ];
    const s = await setUp({ rule: mobileRule, fields: mobileFields, existing: { mobilePhone: '+12123100003' } });
    const before = await tableCounts(h);
    const res = await api.apply(s.form.id, { firstName: 'Ada', lastName: 'Lovelace', mobilePhone: '(212) 310-0003' });
    expect(res.statusCode, res.body).toBe(409);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.json()).toMatchObject({ outcome: 'full_stop', message: VERIFICATION_MESSAGES.full_stop, detail: VERIFICATION_MESSAGES.full_stop });
    expect(await tableCounts(h)).toEqual(before);

    const noEmail = await setUp({ rule: mobileRule, fields: mobileFields, existing: { email: null, mobilePhone: '+12123100004' } });
    const before2 = await tableCounts(h);
    const res2 = await api.apply(noEmail.form.id, { firstName: 'Ada', lastName: 'Lovelace', email: `ada.${noEmail.id}@example.org`, mobilePhone: '+1 212 310 0004' });
    expect(res2.statusCode, res2.body).toBe(409);
    expect(res2.json().outcome).toBe('full_stop');
    expect(await tableCounts(h)).toEqual(before2);
    expect(await api.contact(s.existing.id)).toEqual(s.existing);
  });

  it('a family member sharing the email and last name cannot overwrite the profile and is told to use their own address', async () => {
    const s = await setUp();
    const before = await tableCounts(h);
    const res = await api.apply(s.form.id, { firstName: 'Byron', lastName: 'Lovelace', email: s.email, mobilePhone: '+12123100005' });
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json()).toMatchObject({ outcome: 'family_warning', message: VERIFICATION_MESSAGES.family_warning });
    expect(res.json().message).toMatch(/apply again with your own email address/);
    expect(await tableCounts(h)).toEqual(before);
    expect(await api.contact(s.existing.id)).toEqual(s.existing);

    // A household where both people have a profile: each proves themself with the code.
    const augusta = await api.createContact({ firstName: 'Augusta', lastName: 'Lovelace', email: s.email, onDuplicate: 'create_anyway' });
    const res2 = await api.apply(s.form.id, { firstName: 'Augusta', lastName: 'Lovelace', email: s.email });
    expect(res2.statusCode, res2.body).toBe(202);
    expect((await api.applications(augusta.id)).map((a) => a.status)).toEqual(['pending_verification']);
    expect(await api.applications(s.existing.id)).toEqual([]);
  });

  it('without verification on the form, no code is ever asked: each application attaches and the profile is never overwritten', async () => {
    const s = await setUp();
    const open = await api.createForm({ name: `Open ${s.id}`, duplicateRule: { identifier: 'email', lastName: true, ssn: 'none' } });
    for (const mobile of ['+12123100006', '+12123100007']) {
      const res = await api.apply(open.id, { firstName: 'Ada', lastName: 'Lovelace', email: s.email, mobilePhone: mobile });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ status: 'received' });
      h.clock.advance(1000);
    }
    const apps = await api.applications(s.existing.id);
    expect(apps.map((a) => a.status)).toEqual(['attached', 'attached']);
    expect(apps.map((a) => a.submitted?.mobilePhone)).toEqual(['+12123100007', '+12123100006']);
    expect(await api.contact(s.existing.id)).toEqual(s.existing);
    const transport = smtpTransport(smtp.url);
    await dispatchDueMail(h.ctx, transport);
    transport.close();
    expect(mailsTo(s.email)).toBe(0);
  });

  it('a wrong code costs an attempt, a typo does not; after 5 the code is dead even with the right digits', async () => {
    const v = await startVerification();
    const wrongCode = (i: number) => String((Number(v.code) + 1 + i) % 1_000_000).padStart(6, '0');
    const typo = await api.verify(v.form.id, v.verificationId, '12-34');
    expect(typo.statusCode).toBe(422);
    expect(typo.json()).toMatchObject({ reason: 'wrong_code', attemptsLeft: MAX_ATTEMPTS, detail: 'Enter the 6-digit code from the email we sent you.' });
    for (let i = 0; i < MAX_ATTEMPTS - 1; i++) {
      const res = await api.verify(v.form.id, v.verificationId, wrongCode(i));
      expect(res.statusCode).toBe(422);
      expect(res.json().attemptsLeft).toBe(MAX_ATTEMPTS - 1 - i);
    }
    const last = await api.verify(v.form.id, v.verificationId, wrongCode(9));
    expect(last.statusCode).toBe(410);
    expect(last.json()).toMatchObject({ reason: 'attempts_exhausted', attemptsLeft: 0, canResend: true });
    expect(last.json().detail).toMatch(/last attempt.*Request a new code/);
    const right = await api.verify(v.form.id, v.verificationId, v.code);
    expect(right.statusCode).toBe(410);
    expect(right.json().detail).toMatch(/Too many incorrect codes/);
    expect(await api.contact(v.existing.id)).toEqual(v.existing);
  });

  it('parallel guesses each cost an attempt: no more than 5 are ever judged', async () => {
    const v = await startVerification();
    const guesses = Array.from({ length: 9 }, (_, i) => String((Number(v.code) + 1 + i) % 1_000_000).padStart(6, '0'));
    const results = await Promise.all(guesses.map((g) => api.verify(v.form.id, v.verificationId, g)));
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses.filter((s) => s === 422)).toHaveLength(MAX_ATTEMPTS - 1);
    expect(statuses.filter((s) => s === 410)).toHaveLength(guesses.length - (MAX_ATTEMPTS - 1));
    const row = await h.ctx.db.selectFrom('application_verifications').select(['attempts', 'status']).where('id', '=', v.verificationId).executeTakeFirstOrThrow();
    expect(row).toEqual({ attempts: MAX_ATTEMPTS, status: 'pending' });
    expect((await api.verify(v.form.id, v.verificationId, v.code)).statusCode).toBe(410);
  });

  it('a code expires after 15 minutes; resends are throttled, replace the code and are limited', async () => {
    const v = await startVerification();
    h.clock.advance(CODE_TTL_MS);
    const expired = await api.verify(v.form.id, v.verificationId, v.code);
    expect(expired.statusCode).toBe(410);
    expect(expired.json()).toMatchObject({ reason: 'code_expired', canResend: true });
    expect(expired.json().detail).toMatch(/expired \(codes are valid for 15 minutes\)\. Request a new code/);

    const first = await api.resend(v.form.id, v.verificationId);
    expect(first.statusCode, first.body).toBe(202);
    expect(first.json()).toMatchObject({ status: 'code_sent', resendsLeft: 2 });
    const second = await codeSentTo(v.email);
    const soon = await api.resend(v.form.id, v.verificationId);
    expect(soon.statusCode).toBe(429);
    expect(soon.json()).toMatchObject({ reason: 'too_soon', retryAfterSeconds: 60 });
    expect(soon.headers['retry-after']).toBe('60');

    h.clock.advance(61_000);
    expect((await api.resend(v.form.id, v.verificationId)).statusCode).toBe(202);
    const third = await codeSentTo(v.email);
    if (second !== third) expect((await api.verify(v.form.id, v.verificationId, second)).statusCode).toBe(422);
    h.clock.advance(61_000);
    expect((await api.resend(v.form.id, v.verificationId)).statusCode).toBe(202);
    const fourth = await codeSentTo(v.email);
    h.clock.advance(61_000);
    const tooMany = await api.resend(v.form.id, v.verificationId);
    expect(tooMany.statusCode).toBe(429);
    expect(tooMany.json()).toMatchObject({ reason: 'too_many_codes' });
    expect(tooMany.json().detail).toMatch(/contact us/);

    const ok = await api.verify(v.form.id, v.verificationId, fourth);
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('an abandoned verification is purged with what the applicant typed', async () => {
    const v = await startVerification();
    h.clock.advance(25 * 3_600_000);
    expect(await purgeAbandonedApplications(h.ctx)).toBeGreaterThanOrEqual(1);
    expect(await api.applications(v.existing.id)).toEqual([]);
    expect((await api.verify(v.form.id, v.verificationId, v.code)).statusCode).toBe(404);
  });

  it('unknown verifications and verifications of another form are 404', async () => {
    const v = await startVerification();
    const other = await api.createForm({ name: 'Other' });
    expect((await api.verify(other.id, v.verificationId, v.code)).statusCode).toBe(404);
    expect((await api.verify(v.form.id, '019bc0e2-0000-7000-8000-000000000000', v.code)).statusCode).toBe(404);
    expect((await api.resend(other.id, v.verificationId)).statusCode).toBe(404);
  });

  it('keeps SSNs and emails out of the logs, and no clear SSN anywhere in the database', async () => {
    const logs = h.logLines.join('\n');
    expect(logs).not.toMatch(/234-?56-?7890/);
    expect(logs).not.toMatch(/@example\.org/i);
    const dump = await dumpDatabase(h);
    expect(dump).not.toMatch(/234-?56-?7890/);
    if (h.kind === 'sqlite') {
      await h.ctx.store.compact();
      const bytes = fs.readFileSync(h.ctx.store.sqlitePath!).toString('latin1');
      expect(bytes).not.toMatch(/234-?56-?7890/);
    }
  });
});
