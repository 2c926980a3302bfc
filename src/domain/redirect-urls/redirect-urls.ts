/** The kinds of redirect URL Stytch keeps per project; each send names the one it needs. */
export const REDIRECT_URL_TYPES = ['login', 'signup', 'invite', 'discovery', 'reset_password'] as const;
export type RedirectUrlType = (typeof REDIRECT_URL_TYPES)[number];

/**
 * Which URL a link may send a browser to. `resolve` answers the URL given when it is allowed for
 * the type (exact match, as Stytch), or the type's default when none is given; otherwise it throws
 * Stytch's error for that type (invalid_<type>_redirect_url, no_default_<type>_redirect_url_set).
 */
export interface RedirectUrlResolver {
  resolve(type: RedirectUrlType, given: string | undefined): Promise<string>;
}
