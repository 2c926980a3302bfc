import { errorFactory, type ErrorKind } from '../common/domain-error.js';

/** Impersonation error codes: Stytch `error_type` values where Stytch has one (docs/errors.md marks ours). */
export const IMPERSONATION_ERRORS = {
  unable_to_auth_impersonation_token: {
    kind: 'unauthenticated',
    message: 'The impersonation token is unknown, expired or already used.',
  },
  member_impersonation_not_allowed: { kind: 'permission_denied', message: 'Impersonation is not allowed for this member.' },
  invalid_impersonation_reason: { kind: 'invalid_argument', message: 'A reason of 1 to 1024 characters is required to impersonate a member.' },
  invalid_impersonator: {
    kind: 'invalid_argument',
    message: 'impersonator_id (1 to 256 characters) and a valid impersonator_email_address are required.',
  },
  invalid_impersonation_redirect_url: {
    kind: 'invalid_argument',
    message: 'impersonation_redirect_url must be an https:// URL (http:// only for localhost) without user:password@.',
  },
  impersonation_session_not_found: { kind: 'not_found', message: 'No active impersonated session matches.' },
  no_impersonation_revoke_arguments: {
    kind: 'invalid_argument',
    message: 'Provide at least one of member_session_id, impersonator_id, organization_id or member_id.',
  },
} as const satisfies Record<string, { kind: ErrorKind; message: string }>;

export type ImpersonationErrorCode = keyof typeof IMPERSONATION_ERRORS;

export const impersonationError = errorFactory(IMPERSONATION_ERRORS);
