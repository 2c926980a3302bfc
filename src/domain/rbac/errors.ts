import { errorFactory, type ErrorKind } from '../common/domain-error.js';

/** RBAC error codes: Stytch `error_type` values where Stytch has one (docs/errors.md marks ours). */
export const RBAC_ERRORS = {
  session_authorization_error: { kind: 'permission_denied', message: 'The member session is not authorized for this action.' },
  session_authorization_tenancy_error: {
    kind: 'permission_denied',
    message: "authorization_check.organization_id does not match the session's organization.",
  },
  unauthorized_action: {
    kind: 'permission_denied',
    message: 'Member-session authorization headers are not supported on this endpoint yet; call it with the project secret alone.',
  },
} as const satisfies Record<string, { kind: ErrorKind; message: string }>;

export type RbacErrorCode = keyof typeof RBAC_ERRORS;

export const rbacError = errorFactory(RBAC_ERRORS);
