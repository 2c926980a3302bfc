import { createHash, timingSafeEqual } from 'node:crypto';
import type { Random } from '../platform/random.js';

/**
 * CSRF protection for every console form. A signed-in form carries a token derived from the
 * session cookie (which scripts cannot read: HttpOnly), so it is bound to that session; the sign-in
 * form, before any session exists, uses a double-submit cookie. SameSite=Strict cookies are the
 * second layer.
 */
export const PRE_SESSION_COOKIE = 'understudy_console_csrf';

export function csrfTokenForSession(sessionToken: string): string {
  return createHash('sha256').update(`understudy-console-csrf:${sessionToken}`).digest('base64url');
}

export function newPreSessionToken(random: Random): string {
  return random.bytes(24).toString('base64url');
}

export function csrfMatches(expected: string | undefined, presented: unknown): boolean {
  if (expected === undefined || typeof presented !== 'string' || presented.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(presented), Buffer.from(expected));
}
