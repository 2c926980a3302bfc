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
  impersonation_access_not_granted: {
    kind: 'permission_denied',
    message: "The organization lets support impersonate only while an access grant it opened covers the member, and none does.",
  },
  access_grant_not_found: { kind: 'not_found', message: 'No access grant of this organization has this id.' },
  invalid_access_grant: {
    kind: 'invalid_argument',
    message: 'An access grant needs a reason (1 to 1024 characters), a duration from 1 minute to its maximum in hours, and either every member or 1 to 100 named members of the organization.',
  },
  access_grant_not_pending: { kind: 'precondition_failed', message: 'The access grant is not in a state that allows this (only a requested grant can be approved or denied, only an open one revoked).' },
  invalid_permission_mask: {
    kind: 'invalid_argument',
    message: 'permissions must be "read_only" or a list of 1 to 100 "resource:action" pairs of the project\'s RBAC policy.',
  },
  invalid_impersonation_policy: {
    kind: 'invalid_argument',
    message: 'access_mode must be open, by_grant or off; delegated_impersonation off, members or members_and_admins; and impersonation_enabled must agree with access_mode when both are sent.',
  },
  delegated_impersonation_not_allowed: {
    kind: 'permission_denied',
    message: "An organization admin may impersonate only members of their own organization whose roles are not above their own, and admins only where the organization's policy allows it.",
  },
  invalid_impersonation_end_link: { kind: 'unauthenticated', message: 'This link to end an impersonation is unknown, expired or already used.' },
  no_impersonation_revoke_arguments: {
    kind: 'invalid_argument',
    message: 'Provide at least one of member_session_id, impersonator_id, organization_id or member_id.',
  },
} as const satisfies Record<string, { kind: ErrorKind; message: string }>;

export type ImpersonationErrorCode = keyof typeof IMPERSONATION_ERRORS;

export const impersonationError = errorFactory(IMPERSONATION_ERRORS);
