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
  if (expected === undefined || typeof presented !== 'string') return false;
  // Compared as bytes: a presented value of the right length in characters but not in bytes (non-ASCII) is simply wrong.
  const presentedBytes = Buffer.from(presented);
  const expectedBytes = Buffer.from(expected);
  return presentedBytes.length === expectedBytes.length && timingSafeEqual(presentedBytes, expectedBytes);
}
