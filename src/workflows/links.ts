import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AppContext } from '../context.ts';

/**
 * Links in workflow emails, signed per contact with the server's link key: nothing is stored, a
 * changed byte breaks the MAC, and each link carries its own expiry. The token holds ids and
 * the target URL only (the target is the institution's own page, written in the workflow).
 */
export type LinkKind = 'track' | 'opt_in' | 'renew' | 'unsubscribe';

export interface LinkClaims {
  kind: LinkKind;
  institutionId: string;
  contactId: string;
  workflowId: string | null;
  /** tracked links: where the click goes */
  url?: string;
  /** expiry, unix seconds */
  exp: number;
}

export const LINK_TTL_DAYS = 365;

const mac = (key: Buffer, body: string) => createHmac('sha256', key).update(`workflow-link:${body}`, 'utf8').digest('base64url');

export function signLink(ctx: Pick<AppContext, 'secrets' | 'clock'>, claims: Omit<LinkClaims, 'exp'>, ttlDays = LINK_TTL_DAYS): string {
  const full: LinkClaims = { ...claims, exp: Math.floor(ctx.clock.now().getTime() / 1000) + ttlDays * 86_400 };
  const body = Buffer.from(JSON.stringify(full), 'utf8').toString('base64url');
  return `${body}.${mac(ctx.secrets.linkKey, body)}`;
}

export type LinkCheck = { ok: true; claims: LinkClaims } | { ok: false; reason: 'invalid' | 'expired' };

/** Checks a token's MAC first (a forged body is never parsed), then its expiry and kind. */
export function verifyLink(ctx: Pick<AppContext, 'secrets' | 'clock'>, token: string, kind: LinkKind): LinkCheck {
  const m = /^([A-Za-z0-9_-]{1,4000})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return { ok: false, reason: 'invalid' };
  const expected = Buffer.from(mac(ctx.secrets.linkKey, m[1]), 'base64url');
  const given = Buffer.from(m[2], 'base64url');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'invalid' };
  let claims: LinkClaims;
  try {
    claims = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8')) as LinkClaims;
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  if (claims.kind !== kind) return { ok: false, reason: 'invalid' };
  if (claims.exp * 1000 < ctx.clock.now().getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}

const pagePath: Record<LinkKind, string> = { track: '/p/l/', opt_in: '/p/opt-in/', renew: '/p/renew/', unsubscribe: '/p/unsubscribe/' };

export function linkUrl(ctx: Pick<AppContext, 'secrets' | 'clock' | 'config'>, claims: Omit<LinkClaims, 'exp'>): string {
  return `${ctx.config.publicUrl}${pagePath[claims.kind]}${signLink(ctx, claims)}`;
}

/** The one-click unsubscribe link every marketing email carries, in its footer and its List-Unsubscribe header. */
export function unsubscribeUrl(ctx: Pick<AppContext, 'secrets' | 'clock' | 'config'>, institutionId: string, contactId: string, workflowId: string | null = null): string {
  return linkUrl(ctx, { kind: 'unsubscribe', institutionId, contactId, workflowId });
}
