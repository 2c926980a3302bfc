import { errorFactory, type ErrorKind } from '../common/domain-error.js';

/**
 * Error codes of signing in by email (magic links, one-time codes, invitations, discovery): Stytch
 * `error_type` values where Stytch has one (docs/errors.md marks ours), each with its kind.
 */
export const EMAIL_SIGN_IN_ERRORS = {
  unable_to_auth_magic_link: {
    kind: 'unauthenticated',
    message: 'The magic link could not be authenticated because it was either already used or expired. Send another magic link to this user.',
  },
  magic_link_not_found: { kind: 'not_found', message: 'The magic link could not be authenticated, try sending another magic link to the user.' },
  unable_to_auth_otp_code: {
    kind: 'unauthenticated',
    message: 'The one-time code could not be authenticated: it is wrong, expired or already used. Send another code to this user.',
  },
  otp_code_not_found: { kind: 'not_found', message: 'No one-time code was sent to this email address, or it is no longer valid. Send another code.' },
  invalid_expiration_otp: { kind: 'invalid_argument', message: 'The expiration minutes of a one-time code must be a whole number from 2 to 15.' },
  invalid_locale: { kind: 'invalid_argument', message: 'locale must be one of en, es, pt-br or fr.' },
  pkce_expected_code_verifier: { kind: 'invalid_argument', message: 'This token was sent with a PKCE code challenge: provide pkce_code_verifier.' },
  pkce_did_not_expect_code_verifier: { kind: 'invalid_argument', message: 'This token was sent without a PKCE code challenge: omit pkce_code_verifier.' },
  pkce_mismatch: { kind: 'invalid_argument', message: 'pkce_code_verifier does not match the code challenge this token was sent with.' },
  invalid_pkce_code_challenge: { kind: 'invalid_argument', message: 'pkce_code_challenge must be base64url(SHA-256(verifier)): 43 characters of A-Z, a-z, 0-9, - and _.' },
  invalid_pkce_code_verifier: { kind: 'invalid_argument', message: 'pkce_code_verifier must be 43 to 128 characters.' },
  email_jit_provisioning_not_allowed: {
    kind: 'permission_denied',
    message: 'This organization does not allow members to join by email (email_jit_provisioning is NOT_ALLOWED).',
  },
  invalid_email_for_jit_provisioning: {
    kind: 'invalid_argument',
    message: "The email address's domain is not in the organization's email_allowed_domains, so it cannot join by email.",
  },
  email_invites_not_allowed: { kind: 'permission_denied', message: 'This organization does not allow email invites (email_invites is NOT_ALLOWED).' },
  invalid_email_for_invites: { kind: 'invalid_argument', message: "The email address's domain is not in the organization's email_allowed_domains, so it cannot be invited." },
  member_already_active: { kind: 'invalid_argument', message: 'The member is already active: send them a login magic link instead of an invite.' },
  operation_restricted_by_organization_auth_methods: {
    kind: 'permission_denied',
    message: "The organization's auth_methods do not allow this sign-in method.",
  },
  // Members with these statuses cannot sign in; Stytch answers member_not_found for a deleted one.
  // Understudy has only its built-in templates: a custom template id names one that does not exist here.
} as const satisfies Record<string, { kind: ErrorKind; message: string }>;

export type EmailSignInErrorCode = keyof typeof EMAIL_SIGN_IN_ERRORS;

export const emailSignInError = errorFactory(EMAIL_SIGN_IN_ERRORS);
