import { redirectUrlProblem } from '../impersonation/impersonation-text.js';
import { redirectUrlError } from './errors.js';
import { REDIRECT_URL_TYPES, type RedirectUrlType } from './redirect-urls.js';

/** One type a redirect URL is allowed for, and whether it is that type's default. */
export interface RedirectUrlTypeSetting {
  readonly type: RedirectUrlType;
  readonly isDefault: boolean;
}

/** An allowed redirect URL, as Stytch's dashboard keeps it: the exact string and its types. */
export interface RedirectUrl {
  readonly url: string;
  readonly types: readonly RedirectUrlTypeSetting[];
}

/**
 * Where a redirect URL comes from. Configured URLs are read-only in the console and the CLI; the
 * built-in one stands in only while nothing is configured or stored (a new Stytch test project
 * starts with it too).
 */
export type RedirectUrlSource = 'configuration' | 'database' | 'built_in';

/** What a project with no redirect URL at all allows, for every type, and uses as every default. */
export const BUILT_IN_REDIRECT_URL = 'http://localhost:3000/authenticate';

export const MAX_REDIRECT_URL_BYTES = 2048;

export function isRedirectUrlType(value: string): value is RedirectUrlType {
  return (REDIRECT_URL_TYPES as readonly string[]).includes(value);
}

/**
 * Why `url` may not be allowed, or undefined when it may: an absolute https:// URL (http:// only
 * for localhost, 127.0.0.1, [::1]) without user:password@, no whitespace or control characters,
 * at most 2048 bytes (it is a database key, so bytes, not characters, count).
 */
export function allowedRedirectUrlProblem(url: string): string | undefined {
  if (Buffer.byteLength(url, 'utf8') > MAX_REDIRECT_URL_BYTES) return `is longer than ${MAX_REDIRECT_URL_BYTES} bytes`;
  return redirectUrlProblem(url);
}

/** Throws invalid_allowed_redirect_url naming what is wrong, unless `url` may be allowed. */
export function checkAllowedRedirectUrl(url: string): void {
  const problem = allowedRedirectUrlProblem(url);
  if (problem !== undefined) throw redirectUrlError('invalid_allowed_redirect_url', `The redirect URL ${problem}: use https:// (http:// only for localhost, 127.0.0.1 or [::1]), without user:password@.`);
}

/**
 * Checks a URL's types (at least one, each once) and returns them in the canonical order of
 * REDIRECT_URL_TYPES, so stored, listed and audited forms compare equal.
 */
export function checkTypes(types: readonly RedirectUrlTypeSetting[]): RedirectUrlTypeSetting[] {
  if (types.length === 0) throw redirectUrlError('invalid_allowed_redirect_url_types', 'A redirect URL needs at least one type: login, signup, invite, discovery or reset_password.');
  const seen = new Set<string>();
  for (const setting of types) {
    if (!isRedirectUrlType(setting.type)) {
      throw redirectUrlError('invalid_allowed_redirect_url_types', `"${String(setting.type)}" is not a redirect URL type: use login, signup, invite, discovery or reset_password.`);
    }
    if (seen.has(setting.type)) throw redirectUrlError('invalid_allowed_redirect_url_types', `The type ${setting.type} is given twice.`);
    seen.add(setting.type);
  }
  return [...types].sort((a, b) => REDIRECT_URL_TYPES.indexOf(a.type) - REDIRECT_URL_TYPES.indexOf(b.type)).map(({ type, isDefault }) => ({ type, isDefault }));
}

/** Every type, the first URL of a list being each type's default: how a plain list of URLs is read. */
export function allTypes(isDefault: boolean): RedirectUrlTypeSetting[] {
  return REDIRECT_URL_TYPES.map((type) => ({ type, isDefault }));
}
