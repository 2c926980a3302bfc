import { errorFactory, type ErrorKind } from '../common/domain-error.js';

/** Organization error codes: Stytch `error_type` values where Stytch has one (docs/errors.md marks ours), each with its kind. */
export const ORGANIZATION_ERRORS = {
  organization_not_found: { kind: 'not_found', message: 'Organization could not be found.' },
  invalid_organization_name: { kind: 'invalid_argument', message: 'organization_name must be at most 128 characters.' },
  invalid_organization_slug: {
    kind: 'invalid_argument',
    message: 'organization_slug must be 2 to 128 characters of letters, digits, -, ., _ or ~.',
  },
  organization_slug_already_used: { kind: 'already_exists', message: 'This organization_slug is already used by another organization.' },
  invalid_organization_external_id: {
    kind: 'invalid_argument',
    message: 'organization_external_id must be 1 to 128 characters of letters, digits, ., _, - or |.',
  },
  organization_external_id_already_used: {
    kind: 'already_exists',
    message: 'This organization_external_id is already used by another organization.',
  },
  invalid_organization_mfa_policy: { kind: 'invalid_argument', message: 'mfa_policy must be OPTIONAL or REQUIRED_FOR_ALL.' },
  invalid_organization_auth_method_settings: { kind: 'invalid_argument', message: 'The authentication method settings are invalid.' },
  allowed_auth_methods_required_for_restricted: {
    kind: 'invalid_argument',
    message: 'allowed_auth_methods must not be empty when auth_methods is RESTRICTED.',
  },
  allowed_mfa_methods_required_for_restricted: {
    kind: 'invalid_argument',
    message: 'allowed_mfa_methods must not be empty when mfa_methods is RESTRICTED.',
  },
  organization_settings_domain_too_common: {
    kind: 'invalid_argument',
    message: 'Common email domains such as gmail.com cannot be used as organization domains.',
  },
  organization_settings_invalid_domain: { kind: 'invalid_argument', message: 'The email domain is invalid.' },
  organization_settings_claimed_domain_too_common: {
    kind: 'invalid_argument',
    message: 'Common email domains such as gmail.com cannot be claimed by an organization.',
  },
  organization_settings_invalid_claimed_domain: { kind: 'invalid_argument', message: 'The claimed email domain is invalid.' },
  rbac_domain_too_common: { kind: 'invalid_argument', message: 'Common email domains such as gmail.com cannot grant implicit roles.' },
  rbac_invalid_domain: { kind: 'invalid_argument', message: 'The domain of an implicit role assignment is invalid.' },
  invalid_organization_allowed_auth_methods: { kind: 'invalid_argument', message: 'allowed_auth_methods holds an unknown method.' },
  invalid_organization_allowed_mfa_methods: { kind: 'invalid_argument', message: 'allowed_mfa_methods holds an unknown method.' },
  organization_name_missing: { kind: 'invalid_argument', message: 'organization_name is required.' },
  invalid_organization_settings: { kind: 'invalid_argument', message: 'An organization setting has an invalid value.' },
  invalid_organization_logo_url: { kind: 'invalid_argument', message: 'organization_logo_url must be an http(s) URL.' },
} as const satisfies Record<string, { kind: ErrorKind; message: string }>;

export type OrganizationErrorCode = keyof typeof ORGANIZATION_ERRORS;

export const organizationError = errorFactory(ORGANIZATION_ERRORS);
