import { errorFactory, type ErrorKind } from '../common/domain-error.js';
import type { RedirectUrlType } from './redirect-urls.js';

/**
 * Error codes of redirect URLs. The `invalid_*` and `no_*` codes are Stytch's, answered by every
 * send that takes a redirect URL; the `*allowed_redirect_url*` ones are ours, answered only by the
 * console and the CLI, which edit the list (Stytch edits it in its dashboard, which has no API).
 */
export const REDIRECT_URL_ERRORS = {
  invalid_login_redirect_url: {
    kind: 'invalid_argument',
    message: "The login redirect URL is not one of the project's redirect URLs allowed for login. Add it with the login type (console, `understudy redirect-urls add`, or configuration).",
  },
  invalid_signup_redirect_url: {
    kind: 'invalid_argument',
    message: "The signup redirect URL is not one of the project's redirect URLs allowed for signup. Add it with the signup type (console, `understudy redirect-urls add`, or configuration).",
  },
  invalid_invite_redirect_url: {
    kind: 'invalid_argument',
    message: "The invite redirect URL is not one of the project's redirect URLs allowed for invite. Add it with the invite type (console, `understudy redirect-urls add`, or configuration).",
  },
  invalid_discovery_redirect_url: {
    kind: 'invalid_argument',
    message: "The discovery redirect URL is not one of the project's redirect URLs allowed for discovery. Add it with the discovery type (console, `understudy redirect-urls add`, or configuration).",
  },
  invalid_password_reset_redirect_url: {
    kind: 'invalid_argument',
    message: "The password reset redirect URL is not one of the project's redirect URLs allowed for reset_password. Add it with the reset_password type (console, `understudy redirect-urls add`, or configuration).",
  },
  no_default_login_redirect_url_set: {
    kind: 'invalid_argument',
    message: 'No login redirect URL was given and the project has no default redirect URL for login. Pass one, or make one the default for login.',
  },
  no_default_signup_redirect_url_set: {
    kind: 'invalid_argument',
    message: 'No signup redirect URL was given and the project has no default redirect URL for signup. Pass one, or make one the default for signup.',
  },
  no_default_invite_redirect_url_set: {
    kind: 'invalid_argument',
    message: 'No invite redirect URL was given and the project has no default redirect URL for invite. Pass one, or make one the default for invite.',
  },
  no_default_discovery_redirect_url_set: {
    kind: 'invalid_argument',
    message: 'No discovery redirect URL was given and the project has no default redirect URL for discovery. Pass one, or make one the default for discovery.',
  },
  no_password_reset_redirect_url: {
    kind: 'invalid_argument',
    message: 'No password reset redirect URL was given and the project has no default redirect URL for reset_password. Pass one, or make one the default for reset_password.',
  },
  // Ours: editing the list in the console or the CLI.
  invalid_allowed_redirect_url: {
    kind: 'invalid_argument',
    message: 'A redirect URL must be an absolute https:// URL (http:// only for localhost, 127.0.0.1 or [::1]) without user:password@, at most 2048 bytes.',
  },
  invalid_allowed_redirect_url_types: {
    kind: 'invalid_argument',
    message: 'A redirect URL needs at least one type, each one of login, signup, invite, discovery, reset_password, and may be the default only of its own types.',
  },
  allowed_redirect_url_not_found: { kind: 'not_found', message: "The URL is not one of the redirect URLs stored in the project's database." },
  allowed_redirect_url_from_configuration: {
    kind: 'precondition_failed',
    message: 'The URL comes from configuration (UNDERSTUDY_REDIRECT_URLS or the config file key redirect_urls): change it there.',
  },
} as const satisfies Record<string, { kind: ErrorKind; message: string }>;

export type RedirectUrlErrorCode = keyof typeof REDIRECT_URL_ERRORS;

export const redirectUrlError = errorFactory(REDIRECT_URL_ERRORS);

/** Stytch's code for a URL not allowed for `type`. */
export const INVALID_REDIRECT_URL: Readonly<Record<RedirectUrlType, RedirectUrlErrorCode>> = {
  login: 'invalid_login_redirect_url',
  signup: 'invalid_signup_redirect_url',
  invite: 'invalid_invite_redirect_url',
  discovery: 'invalid_discovery_redirect_url',
  reset_password: 'invalid_password_reset_redirect_url',
};

/** Stytch's code for no URL given when `type` has no default. */
export const NO_DEFAULT_REDIRECT_URL: Readonly<Record<RedirectUrlType, RedirectUrlErrorCode>> = {
  login: 'no_default_login_redirect_url_set',
  signup: 'no_default_signup_redirect_url_set',
  invite: 'no_default_invite_redirect_url_set',
  discovery: 'no_default_discovery_redirect_url_set',
  reset_password: 'no_password_reset_redirect_url',
};
