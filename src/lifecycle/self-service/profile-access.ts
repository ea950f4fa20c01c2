import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { AppContext, Db } from '../../context.ts';
import { newId } from '../../ids.ts';
import { recordAudit, type Actor } from '../../audit/audit-log.ts';
import { normalizeEmail } from '../../contacts/normalize.ts';
import { enqueueMail } from '../../mail/outbox.ts';
import { renderTemplate } from '../../mail/template.ts';
import { notFound, Problem } from '../../http/problem.ts';
import { keyedHash } from '../../security/server-secret.ts';
import { CODE_DIGITS, CODE_TTL_MS, codeState, mayIssueCode, SESSION_TTL_MS, typedCode } from './code-rules.ts';

export const CODE_SENT = 'If this address belongs to a profile here, a code to open it is on its way. It expires in 10 minutes.';
const WRONG_CODE = 'The code is wrong or has expired; ask for a new one.';
const WRONG_LINK = 'This link is not valid, was already used or has expired; ask for a new code.';

/** The self-service actor: the contact acting on their own record, named by id only. */
export const selfActor = (contactId: string): Actor => ({ userId: null, label: `contact:${contactId}` });

export async function institutionBySlug(db: Db, slug: string): Promise<{ id: string; name: string }> {
  const row = await db.selectFrom('institutions').select(['id', 'name']).where('slug', '=', slug.toLowerCase()).executeTakeFirst();
  if (!row) throw notFound('Institution');
  return row;
}

/**
 * The profile an address opens: the newest active (not disabled) contact with that email in the
 * institution. Several profiles with one address are duplicates the intake tools merge.
 */
async function profileByEmail(db: Db, institutionId: string, email: string): Promise<{ id: string; email: string } | null> {
  const normalized = normalizeEmail(email);
  if (!normalized) return null;
  const row = await db
    .selectFrom('contacts')
    .select(['id', 'email'])
    .where('institution_id', '=', institutionId)
    .where('email_normalized', '=', normalized)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('disabled_contacts').select('contact_id').whereRef('disabled_contacts.contact_id', '=', 'contacts.id'))))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && row.email ? { id: row.id, email: row.email } : null;
}

const codeHash = (ctx: AppContext, codeId: string, code: string) => keyedHash(ctx.secrets.tokenKey, `profile-code:${codeId}:${code}`);
const sessionHash = (ctx: AppContext, token: string) => keyedHash(ctx.secrets.tokenKey, `contact-session:${token}`);

/**
 * The magic link in the code email opens the same one-time code row as the six digits do: its
 * token is the code's id and a MAC of that id under the server's token key. Nothing more is
 * stored, and the link shares the code's lifetime, single use and lock after wrong tries.
 */
const linkMac = (ctx: AppContext, codeId: string) => createHmac('sha256', ctx.secrets.tokenKey).update(`profile-link:${codeId}`, 'utf8').digest('base64url');
const linkTokenPattern = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;

export function profileLinkToken(ctx: AppContext, codeId: string): string {
  return `${codeId}.${linkMac(ctx, codeId)}`;
}

/** The page the link opens; the token sits in the fragment, so it never reaches a server log or a Referer header. */
export function profileLinkUrl(ctx: AppContext, slug: string, token: string): string {
  return `${ctx.config.publicUrl}/profile/${encodeURIComponent(slug)}#link=${token}`;
}

/**
 * Emails a one-time code to the address if it opens a profile. The caller always answers the same
 * (CODE_SENT) whether or not it does, so the endpoint tells nobody who has a profile.
 */
export async function requestProfileCode(ctx: AppContext, slug: string, email: string): Promise<void> {
  const institution = await institutionBySlug(ctx.db, slug);
  const profile = await profileByEmail(ctx.db, institution.id, email);
  if (!profile) return;
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    const recent = await trx
      .selectFrom('contact_access_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('contact_id', '=', profile.id)
      .where('created_at', '>', new Date(now.getTime() - 3_600_000).toISOString())
      .executeTakeFirstOrThrow();
    if (!mayIssueCode(Number(recent.n))) return;
    const id = newId(now.getTime());
    const code = String(randomInt(0, 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');
    // Older codes stop working: only the newest one opens the profile.
    await trx.updateTable('contact_access_codes').set({ consumed_at: now.toISOString() }).where('contact_id', '=', profile.id).where('consumed_at', 'is', null).execute();
    await trx
      .insertInto('contact_access_codes')
      .values({
        id,
        institution_id: institution.id,
        contact_id: profile.id,
        code_hash: codeHash(ctx, id, code),
        attempts: 0,
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + CODE_TTL_MS).toISOString(),
        consumed_at: null,
      })
      .execute();
    await enqueueMail(ctx, trx, {
      institutionId: institution.id,
      contactId: profile.id,
      category: 'transactional',
      template: 'lifecycle.profile_code',
      to: profile.email,
      message: renderTemplate(
        {
          subject: 'Your code: {{code}}',
          text:
            'Your code to open your profile at {{institution}} is {{code}}.\n\n' +
            'Or open it with this link, which works once: {{link}}\n\n' +
            'Both expire in 10 minutes. If you did not ask for them, ignore this message.',
        },
        { code, institution: institution.name, link: profileLinkUrl(ctx, slug, profileLinkToken(ctx, id)) },
      ),
    });
    await recordAudit(ctx, trx, { institutionId: institution.id, actor: selfActor(profile.id), action: 'contact.profile_code', target: { type: 'contact', id: profile.id } });
  });
}

export interface IssuedProfileSession {
  token: string;
  expiresAt: string;
}

/** Checks the code (one use, expiry, limited wrong tries) and opens a short-lived profile session. */
export async function openProfileSession(ctx: AppContext, slug: string, email: string, rawCode: string): Promise<IssuedProfileSession> {
  const institution = await institutionBySlug(ctx.db, slug);
  const wrong = () => new Problem(422, WRONG_CODE, [{ field: 'code', message: 'is wrong or has expired' }]);
  const code = typedCode(rawCode);
  const profile = await profileByEmail(ctx.db, institution.id, email);
  if (!profile || code === null) throw wrong();
  const now = ctx.clock.now();
  const issued = await ctx.db.transaction().execute(async (trx) => {
    // Issuing a code retires the earlier ones, so there is at most one open code per contact.
    let q = trx.selectFrom('contact_access_codes').selectAll().where('contact_id', '=', profile.id).where('consumed_at', 'is', null).orderBy('created_at', 'desc').limit(1);
    if (ctx.store.kind === 'postgres') q = q.forUpdate();
    const stored = await q.executeTakeFirst();
    if (!stored || codeState(stored, now) !== 'usable') return null;
    const expected = Buffer.from(stored.code_hash, 'hex');
    const given = Buffer.from(codeHash(ctx, stored.id, code), 'hex');
    if (!timingSafeEqual(expected, given)) {
      await trx.updateTable('contact_access_codes').set({ attempts: stored.attempts + 1 }).where('id', '=', stored.id).execute();
      return null;
    }
    return startProfileSession(ctx, trx, institution.id, profile.id, stored.id, 'code');
  });
  if (!issued) throw wrong();
  return issued;
}

/** Opens a profile session with the magic link of the code email (one use, the code's expiry). */
export async function openProfileSessionByLink(ctx: AppContext, slug: string, token: string): Promise<IssuedProfileSession> {
  const institution = await institutionBySlug(ctx.db, slug);
  const wrong = () => new Problem(422, WRONG_LINK, [{ field: 'token', message: 'is not valid, was already used or has expired' }]);
  const parts = linkTokenPattern.exec(token);
  if (!parts) throw wrong();
  const [, codeId, mac] = parts;
  if (!timingSafeEqual(Buffer.from(linkMac(ctx, codeId)), Buffer.from(mac))) throw wrong();
  const now = ctx.clock.now();
  const issued = await ctx.db.transaction().execute(async (trx) => {
    let q = trx.selectFrom('contact_access_codes').selectAll().where('id', '=', codeId).where('institution_id', '=', institution.id);
    if (ctx.store.kind === 'postgres') q = q.forUpdate();
    const stored = await q.executeTakeFirst();
    if (!stored || codeState(stored, now) !== 'usable') return null;
    return startProfileSession(ctx, trx, institution.id, stored.contact_id, stored.id, 'link');
  });
  if (!issued) throw wrong();
  return issued;
}

/** Uses up the code and opens the session, in the caller's transaction. */
async function startProfileSession(ctx: AppContext, trx: Db, institutionId: string, contactId: string, codeId: string, via: 'code' | 'link'): Promise<IssuedProfileSession> {
  const now = ctx.clock.now();
  await trx.updateTable('contact_access_codes').set({ consumed_at: now.toISOString() }).where('id', '=', codeId).execute();
  const token = `lc_${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS).toISOString();
  await trx.deleteFrom('contact_sessions').where('contact_id', '=', contactId).where('expires_at', '<=', now.toISOString()).execute();
  await trx
    .insertInto('contact_sessions')
    .values({ id: sessionHash(ctx, token), institution_id: institutionId, contact_id: contactId, created_at: now.toISOString(), expires_at: expiresAt })
    .execute();
  await recordAudit(ctx, trx, { institutionId, actor: selfActor(contactId), action: 'contact.profile_sign_in', target: { type: 'contact', id: contactId }, meta: { via } });
  return { token, expiresAt };
}

/** The contact a profile session opens, or 401. */
export async function contactOfSession(ctx: AppContext, slug: string, token: string | undefined): Promise<{ institutionId: string; contactId: string }> {
  const ended = () => new Problem(401, 'Your profile session has ended; ask for a new code.');
  if (!token || !/^lc_[A-Za-z0-9_-]{20,}$/.test(token)) throw ended();
  const institution = await institutionBySlug(ctx.db, slug);
  const session = await ctx.db
    .selectFrom('contact_sessions')
    .select(['contact_id', 'institution_id', 'expires_at'])
    .where('id', '=', sessionHash(ctx, token))
    .executeTakeFirst();
  if (!session || session.institution_id !== institution.id || session.expires_at <= ctx.clock.now().toISOString()) throw ended();
  return { institutionId: institution.id, contactId: session.contact_id };
}

export async function endProfileSession(ctx: AppContext, token: string): Promise<void> {
  await ctx.db.deleteFrom('contact_sessions').where('id', '=', sessionHash(ctx, token)).execute();
}
