import { errorFactory, type ErrorKind } from '../common/domain-error.js';

/** Console operator error codes (Understudy's own; the console is not part of Stytch's API). */
export const OPERATOR_ERRORS = {
  operator_not_found: { kind: 'not_found', message: 'No such operator.' },
  operator_email_already_used: { kind: 'already_exists', message: 'An operator with this email address already exists.' },
  invalid_operator_role: { kind: 'invalid_argument', message: 'role must be admin, support or viewer.' },
  invalid_operator_name: { kind: 'invalid_argument', message: 'name must be 1 to 200 characters.' },
  weak_operator_password: { kind: 'invalid_argument', message: 'Passwords must be at least 12 characters.' },
  invalid_operator_credentials: { kind: 'unauthenticated', message: 'The email address, password or code is wrong.' },
  operator_locked: { kind: 'rate_limited', message: 'Too many failed attempts. Try again later.' },
  operator_forbidden: { kind: 'permission_denied', message: 'Your role does not allow this.' },
  invalid_operator_reason: { kind: 'invalid_argument', message: 'A reason is required, up to 1024 characters.' },
  operator_totp_not_set: { kind: 'precondition_failed', message: 'This operator has no TOTP to reset.' },
  operator_totp_enrolment_invalid: {
    kind: 'invalid_argument',
    message: 'This authenticator setup has expired, was finished already or belongs to another session. Start again.',
  },
} as const satisfies Record<string, { kind: ErrorKind; message: string }>;

export type OperatorErrorCode = keyof typeof OPERATOR_ERRORS;

export const operatorError = errorFactory(OPERATOR_ERRORS);
