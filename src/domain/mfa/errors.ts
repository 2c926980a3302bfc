import { errorFactory, type ErrorKind } from '../common/domain-error.js';

/**
 * Error codes of multi-factor authentication (TOTP, recovery codes, SMS codes): Stytch `error_type`
 * values where Stytch has one (docs/errors.md marks ours), each with its kind.
 */
export const MFA_ERRORS = {
  action_available_only_for_active_members: { kind: 'invalid_argument', message: 'You may not attach an MFA factor to a member that is not active.' },
  action_available_only_once_primary_authentication_is_met: {
    kind: 'invalid_argument',
    message: 'You must complete the primary authentication requirements for an organization before completing an MFA flow.',
  },
  // Ours: Stytch's text says exactly one must be given, without naming the error.
  mfa_session_arguments_required: {
    kind: 'invalid_argument',
    message: 'Provide exactly one of intermediate_session_token, session_token and session_jwt.',
  },
  member_session_member_id_mismatch: { kind: 'invalid_argument', message: 'The session or intermediate session given belongs to another member than member_id.' },
  // Ours: enrolling another second factor needs a session that already holds the member's active one.
  mfa_factor_required_to_enroll: {
    kind: 'permission_denied',
    message: 'The member already has an active MFA factor: pass an intermediate session token, session token or session JWT that holds it to enroll another.',
  },
  operation_restricted_by_organization_mfa_methods: { kind: 'permission_denied', message: "The organization's allowed_mfa_methods do not include this method." },
  active_totp_exists: { kind: 'invalid_argument', message: 'The member already has an active TOTP registration; delete it first with organizations.members.deleteTOTP.' },
  totp_not_found: { kind: 'not_found', message: 'The member has no TOTP registration, or it lapsed before its first code.' },
  invalid_totp_code: { kind: 'invalid_argument', message: 'A TOTP code is six digits.' },
  unable_to_authenticate_totp: { kind: 'unauthenticated', message: 'The TOTP code could not be authenticated.' },
  totp_code_already_authenticated: { kind: 'unauthenticated', message: 'This TOTP code was already used; wait for the next one.' },
  invalid_totp_secret: { kind: 'invalid_argument', message: 'secret must be a base32 TOTP secret of at least 16 characters.' },
  invalid_recovery_code: { kind: 'invalid_argument', message: 'A recovery code looks like xxxx-xxxx-xxxx (lower-case letters and digits).' },
  unable_to_authenticate_recovery_code: { kind: 'unauthenticated', message: 'The recovery code could not be authenticated: it is wrong or already used.' },
  recovery_codes_not_found: { kind: 'not_found', message: 'The member has no active TOTP registration, so no recovery codes.' },
  invalid_expiration_totp: { kind: 'invalid_argument', message: 'expiration_minutes must be a whole number from 5 to 1440.' },
  member_phone_number_not_found: {
    kind: 'not_found',
    message: 'The member has no MFA phone number: pass mfa_phone_number to link one and send it a code.',
  },
  // Ours: a member's number changes only after organizations.members.deleteMFAPhoneNumber.
  mfa_phone_number_mismatch: {
    kind: 'invalid_argument',
    message: 'mfa_phone_number differs from the member\'s phone number; delete it first with organizations.members.deleteMFAPhoneNumber.',
  },
  // Ours: the operator restricted SMS to some countries (UNDERSTUDY_SMS_ALLOWED_COUNTRY_CODES).
  phone_number_country_not_allowed: {
    kind: 'invalid_argument',
    message: 'SMS codes are not sent to phone numbers of this country on this server: its country calling code is not in UNDERSTUDY_SMS_ALLOWED_COUNTRY_CODES.',
  },
  duplicate_member_phone_number: { kind: 'invalid_argument', message: 'Another member of this organization already uses this phone number.' },
  invalid_set_mfa_enrollment: { kind: 'invalid_argument', message: 'set_mfa_enrollment must be enroll or unenroll.' },
} as const satisfies Record<string, { kind: ErrorKind; message: string }>;

export type MfaErrorCode = keyof typeof MFA_ERRORS;

export const mfaError = errorFactory(MFA_ERRORS);
