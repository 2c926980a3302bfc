import { errorFactory, type ErrorKind } from '../common/domain-error.js';

/** Member error codes: Stytch `error_type` values where Stytch has one (docs/errors.md marks ours), each with its kind. */
export const MEMBER_ERRORS = {
  member_not_found: { kind: 'not_found', message: 'Member could not be found.' },
  invalid_email: { kind: 'invalid_argument', message: 'email_address is not a valid email address.' },
  duplicate_member_email: { kind: 'already_exists', message: 'A member with this email_address already exists in the organization.' },
  duplicate_member_external_id: { kind: 'already_exists', message: 'A member with this external_id already exists in the organization.' },
  invalid_member_external_id: {
    kind: 'invalid_argument',
    message: 'external_id must be 1 to 128 characters of letters, digits, ., _, - or |.',
  },
  invalid_member_name: { kind: 'invalid_argument', message: 'name must be at most 1024 characters.' },
  invalid_phone_number: { kind: 'invalid_argument', message: 'mfa_phone_number must be in E.164 format, e.g. +12025550123.' },
  invalid_mfa_default_method: { kind: 'invalid_argument', message: 'default_mfa_method must be sms_otp or totp.' },
  invalid_rbac_role_id: { kind: 'invalid_argument', message: 'A role in roles does not exist.' },
  cannot_assign_default_rbac_role_id: {
    kind: 'invalid_argument',
    message: 'stytch_member is held by every member and cannot be assigned explicitly.',
  },
  invalid_member_get_fields: { kind: 'invalid_argument', message: 'Provide exactly one of member_id or email_address.' },
  no_deleted_member_found_for_reactivation: { kind: 'invalid_argument', message: 'Only a deleted member can be reactivated.' },
  reactivation_email_belongs_to_another_member: {
    kind: 'already_exists',
    message: "Another member of the organization now uses this member's email address.",
  },
  metadata_too_large: { kind: 'invalid_argument', message: 'Metadata must be a JSON object of at most 4 KB.' },
  member_search_organization_ids_empty: { kind: 'invalid_argument', message: 'organization_ids must name at least one organization.' },
} as const satisfies Record<string, { kind: ErrorKind; message: string }>;

export type MemberErrorCode = keyof typeof MEMBER_ERRORS;

export const memberError = errorFactory(MEMBER_ERRORS);
