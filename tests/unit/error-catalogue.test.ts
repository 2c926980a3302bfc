import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MEMBER_ERRORS } from '../../src/domain/members/errors.js';
import { ORGANIZATION_ERRORS } from '../../src/domain/organizations/errors.js';
import { RBAC_ERRORS } from '../../src/domain/rbac/errors.js';
import { SESSION_ERRORS } from '../../src/domain/sessions/errors.js';
import { DomainError, type ErrorKind } from '../../src/domain/common/domain-error.js';
import { SHARED_ERRORS } from '../../src/domain/common/errors.js';
import { renderError } from '../../src/http/errors.js';

type Catalogue = Readonly<Record<string, { readonly kind: ErrorKind; readonly message: string }>>;

/** Every `*_ERRORS` export of every `src/domain/<capability>/errors.ts` (style rule 10), by export name. */
async function loadCatalogues(): Promise<Record<string, Catalogue>> {
  const domain = fileURLToPath(new URL('../../src/domain/', import.meta.url));
  const catalogues: Record<string, Catalogue> = {};
  for (const capability of readdirSync(domain).sort()) {
    const file = `${domain}${capability}/errors.ts`;
    if (!existsSync(file)) continue;
    const exports = (await import(file)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(exports)) if (name.endsWith('_ERRORS')) catalogues[name] = value as Catalogue;
  }
  return catalogues;
}

const CATALOGUES = await loadCatalogues();

/** Written out here rather than imported, so the test checks src/http/errors.ts instead of repeating it. */
const STATUS_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  already_exists: 400,
  precondition_failed: 400,
  rate_limited: 429,
  internal: 500,
  unimplemented: 501,
  unavailable: 503,
};
const SPECIAL_STATUS: Readonly<Record<string, number>> = { method_not_allowed: 405, request_body_too_large: 413, unsupported_content_type: 415 };

/**
 * Codes Understudy invented: absent from Stytch's list of API error types (`StytchAPIErrorType`
 * in Stytch's frontend SDK). Every other code must be one of Stytch's, listed in `STYTCH_CODES`.
 */
const UNDERSTUDY_SPECIFIC = [
  'invalid_json',
  'not_implemented',
  'unsupported_content_type',
  'request_body_too_large',
  'invalid_search_query',
  'invalid_cursor',
  'invalid_limit',
  'invalid_organization_settings',
  'invalid_organization_logo_url',
  'invalid_member_external_id',
  'invalid_member_name',
  'invalid_impersonator',
  'invalid_impersonation_redirect_url',
  'impersonation_session_not_found',
  'no_impersonation_revoke_arguments',
  'impersonation_access_not_granted',
  'access_grant_not_found',
  'invalid_access_grant',
  'access_grant_not_pending',
  'invalid_permission_mask',
  'invalid_impersonation_policy',
  'delegated_impersonation_not_allowed',
  'invalid_impersonation_end_link',
  'webhook_endpoint_not_found',
  'invalid_webhook_endpoint',
  'too_many_webhook_endpoints',
  'audit_chain_not_found',
  // The operator console is Understudy's own, so are its codes.
  'operator_not_found',
  'operator_email_already_used',
  'invalid_operator_role',
  'invalid_operator_name',
  'weak_operator_password',
  'invalid_operator_credentials',
  'operator_locked',
  'operator_forbidden',
  'invalid_operator_reason',
  'operator_totp_not_set',
  'operator_totp_enrolment_invalid',
  // Signing in by email.
  'email_invites_not_allowed',
  'member_already_active',
  // Redirect URLs are kept in Stytch's dashboard; these answer the console and the CLI that edit ours.
  'invalid_allowed_redirect_url',
  'invalid_allowed_redirect_url_types',
  'allowed_redirect_url_not_found',
  'allowed_redirect_url_from_configuration',
  // Passwords: a configuration object sent with a hash type that takes another one.
  'invalid_hash_config',
  // MFA (TOTP, recovery codes): a second factor without session arguments; enrolling around an active factor.
  'mfa_session_arguments_required',
  'mfa_factor_required_to_enroll',
  // SMS codes: a member's number changes only after deleteMFAPhoneNumber.
  'mfa_phone_number_mismatch',
  // SMS codes: the operator restricted the countries codes go to.
  'phone_number_country_not_allowed',
  // RBAC: Stytch edits the project's policy in its dashboard; these answer our policy file, console and CLI
  // (and org custom roles, whose checks share the policy's), and the in-use and stale-edit guards.
  'invalid_rbac_policy',
  'rbac_role_in_use',
  'rbac_resource_in_use',
  'rbac_policy_changed',
  // SSO
  'invalid_sso_connection_setting',
  'saml_encryption_private_key_invalid',
  'too_many_saml_encryption_private_keys',
  'saml_encryption_private_key_not_found',
];
/** Codes of the server that are Stytch `error_type` values (the SDKs' error-type lists). */
const STYTCH_CODES = [
  // shared: credentials, routing, search
  'unauthorized_credentials',
  'bad_request',
  'route_not_found',
  'method_not_allowed',
  'internal_server_error',
  'server_unavailable',
  'organization_search_missing_filter_name',
  'organization_search_filter_name_must_be_string',
  'organization_search_filter_name_not_recognized',
  'organization_search_missing_filter_value',
  'organization_search_expected_array_of_strings',
  'organization_search_expected_string',
  'member_search_missing_filter_name',
  'member_search_filter_name_must_be_string',
  'member_search_filter_name_not_recognized',
  'member_search_missing_filter_value',
  'member_search_expected_array_of_strings',
  'member_search_expected_string',
  'member_search_expected_boolean',
  'search_invalid_status_filter',
  // organizations
  'organization_not_found',
  'organization_name_missing',
  'invalid_organization_name',
  'invalid_organization_slug',
  'organization_slug_already_used',
  'invalid_organization_external_id',
  'organization_external_id_already_used',
  'invalid_organization_mfa_policy',
  'invalid_organization_auth_method_settings',
  'invalid_organization_allowed_auth_methods',
  'invalid_organization_allowed_mfa_methods',
  'allowed_auth_methods_required_for_restricted',
  'allowed_mfa_methods_required_for_restricted',
  'organization_settings_domain_too_common',
  'organization_settings_invalid_domain',
  'organization_settings_claimed_domain_too_common',
  'organization_settings_invalid_claimed_domain',
  'rbac_domain_too_common',
  'rbac_invalid_domain',
  // members
  'member_not_found',
  'invalid_email',
  'duplicate_member_email',
  'duplicate_member_external_id',
  'invalid_phone_number',
  'invalid_mfa_default_method',
  'invalid_rbac_role_id',
  'cannot_assign_default_rbac_role_id',
  'invalid_member_get_fields',
  'no_deleted_member_found_for_reactivation',
  'reactivation_email_belongs_to_another_member',
  'metadata_too_large',
  'member_search_organization_ids_empty',
  // sessions
  'session_not_found',
  'no_session_arguments',
  'too_many_session_arguments',
  'no_session_revoke_arguments',
  'too_many_session_revoke_arguments',
  'invalid_session_duration_minutes',
  'unable_to_parse_session_jwt',
  'jwt_invalid_issuer',
  'jwt_invalid_audience',
  'jwt_invalid_claims',
  'custom_claims_too_large',
  'reserved_claims_in_custom_claims',
  'stytch_claims_in_custom_claims',
  'session_not_mutable_impersonated',
  'intermediate_session_not_found',
  'invalid_intermediate_session_token_for_organization',
  // impersonation
  'unable_to_auth_impersonation_token',
  'member_impersonation_not_allowed',
  'invalid_impersonation_reason',
  'invalid_expiration',
  // email sign-in: magic links, one-time codes, invitations, discovery
  'unable_to_auth_magic_link',
  'magic_link_not_found',
  'unable_to_auth_otp_code',
  'otp_code_not_found',
  'invalid_expiration_otp',
  'invalid_locale',
  'pkce_expected_code_verifier',
  'pkce_did_not_expect_code_verifier',
  'pkce_mismatch',
  'invalid_pkce_code_challenge',
  'invalid_pkce_code_verifier',
  'email_jit_provisioning_not_allowed',
  'invalid_email_for_jit_provisioning',
  'invalid_email_for_invites',
  'operation_restricted_by_organization_auth_methods',
  // passwords
  'member_reset_password',
  'weak_password',
  'breached_password',
  'unable_to_auth_password_reset_token',
  'session_too_old_to_reset_password',
  'member_password_not_found',
  'cross_org_passwords_not_enabled',
  'user_lock_limit_reached',
  'invalid_hash_type',
  'invalid_hash',
  'invalid_bcrypt_hash',
  'invalid_md_5_hash',
  'invalid_sha_1_hash',
  'invalid_sha_512_hash',
  'invalid_pbkdf_2_hash',
  'invalid_base64_scrypt_hash',
  'invalid_phpass_hash_format',
  'invalid_phpass_hash_prefix',
  'invalid_argon_2_hash',
  'invalid_argon_2_config',
  'argon_2_key_length_mismatch',
  // redirect URLs
  'invalid_login_redirect_url',
  'invalid_signup_redirect_url',
  'invalid_invite_redirect_url',
  'invalid_discovery_redirect_url',
  'invalid_password_reset_redirect_url',
  'no_default_login_redirect_url_set',
  'no_default_signup_redirect_url_set',
  'no_default_invite_redirect_url_set',
  'no_default_discovery_redirect_url_set',
  'no_password_reset_redirect_url',
  // MFA: SMS codes
  'member_phone_number_not_found',
  'duplicate_member_phone_number',
  // MFA: TOTP and recovery codes, and what every second factor shares
  'action_available_only_for_active_members',
  'action_available_only_once_primary_authentication_is_met',
  'member_session_member_id_mismatch',
  'operation_restricted_by_organization_mfa_methods',
  'invalid_set_mfa_enrollment',
  'invalid_expiration_totp',
  'active_totp_exists',
  'totp_not_found',
  'invalid_totp_code',
  'unable_to_authenticate_totp',
  'totp_code_already_authenticated',
  'invalid_totp_secret',
  'invalid_recovery_code',
  'unable_to_authenticate_recovery_code',
  'recovery_codes_not_found',
  // rate limits
  'too_many_requests',
  // RBAC
  'session_authorization_error',
  'session_authorization_tenancy_error',
  'unauthorized_action',
  'invalid_stytch_prefixed_resource',
  'cannot_specify_wildcard_with_other_actions',
  // SSO
  'sso_connection_not_found',
  'saml_connection_not_found',
  'oidc_connection_not_found',
  'invalid_sso_idp',
  'invalid_display_name',
  'too_many_sso_connections',
  'invalid_x509_certificate',
  'too_many_sso_verification_certificates',
  'sso_verification_key_not_found',
  'cannot_delete_last_sso_verification_key',
  'invalid_idp_entity_id',
  'saml_connection_idp_sso_url_invalid_format',
  'saml_connection_no_nested_keys_in_attribute_mapping',
  'saml_signing_private_key_invalid',
  'private_key_too_long',
  'invalid_saml_metadata_url',
  'invalid_xml_from_saml_metadata_url',
  'saml_connection_metadata_invalid_format',
  'oidc_connection_issuer_url_invalid_format',
  'oidc_connection_authorization_url_invalid_format',
  'oidc_connection_token_url_invalid_format',
  'oidc_connection_userinfo_url_invalid_format',
  'oidc_connection_jwks_url_invalid_format',
  'invalid_issuer',
  'client_secret_too_long',
  'cannot_delete_default_sso_connection',
  'invalid_sso_default_connection_id',
  'invalid_connection_for_jit_provisioning',
  'invalid_restricted_sso_setting',
  'external_connection_id_not_found',
  'external_connection_not_active',
  'external_organization_id_same_as_organization_id',
  'duplicate_external_sso_connection',
  'saml_connection_idp_sso_url_not_https',
  'saml_connection_attribute_mapping_missing_groups_key',
  'oidc_connection_client_id_required',
  'oidc_connection_client_secret_required',
  'oidc_connection_issuer_required',
  'oidc_connection_authorization_url_required',
  'oidc_connection_token_url_required',
  'oidc_connection_jwks_url_required',
  'public_token_required',
  'public_token_not_found',
  'missing_sso_connection_locator',
  'requires_active_sso_connection',
  'missing_saml_response',
  'missing_saml_relay_state',
  'invalid_xml_saml_response',
  'invalid_saml_response',
  'missing_signature_saml_response',
  'invalid_signature_saml_response',
  'invalid_audience_saml_response',
  'expired_saml_response',
  'not_yet_valid_saml_response',
  'duplicate_saml_response',
  'unsolicited_saml_response',
  'failed_saml_response',
  'invalid_saml_response_email',
  'missing_oidc_state_param',
  'oidc_invalid_callback_request',
  'oidc_auth_code_error',
  'id_token_invalid',
  'id_token_incorrect_audience',
  'id_token_expired',
  'id_token_nonce_invalid',
  'oidc_response_subject_missing',
  'oidc_response_email_missing',
  'oidc_response_unverified_email',
  'oidc_invalid_userinfo',
  'unsolicited_oidc_response',
  'expired_oidc_response',
  'sso_token_not_found',
  'sso_connection_organization_mismatch',
];

const REQUEST_ID = 'request-id-test-b05c992f-ebdc-489d-a754-c7e70ba13141';
const ALL_CODES: [string, ErrorKind, string][] = Object.values(CATALOGUES).flatMap((catalogue) =>
  Object.entries(catalogue).map(([code, entry]): [string, ErrorKind, string] => [code, entry.kind, entry.message]),
);

interface DocumentedCode {
  readonly status: number;
  readonly origin: string;
  readonly meaning: string;
}

function documentedCodes(): Map<string, DocumentedCode> {
  const text = readFileSync(fileURLToPath(new URL('../../docs/errors.md', import.meta.url)), 'utf8');
  const rows = new Map<string, DocumentedCode>();
  for (const match of text.matchAll(/^\|\s*`([a-z0-9_]+)`\s*\|\s*(\d{3})\s*\|\s*([A-Za-z]+)\s*\|\s*(.*?)\s*\|\s*$/gm)) {
    const code = match[1] as string;
    expect(rows.has(code), `${code} is documented twice in docs/errors.md`).toBe(false);
    rows.set(code, { status: Number(match[2]), origin: match[3] as string, meaning: match[4] as string });
  }
  return rows;
}

describe('error catalogue', () => {
  it('finds the shared, organization, member, session and RBAC catalogues among them', () => {
    expect(CATALOGUES.SHARED_ERRORS).toBe(SHARED_ERRORS);
    expect(CATALOGUES.ORGANIZATION_ERRORS).toBe(ORGANIZATION_ERRORS);
    expect(CATALOGUES.MEMBER_ERRORS).toBe(MEMBER_ERRORS);
    expect(CATALOGUES.SESSION_ERRORS).toBe(SESSION_ERRORS);
    expect(CATALOGUES.RBAC_ERRORS).toBe(RBAC_ERRORS);
  });

  it('classifies every code exactly once as a Stytch code or an Understudy one', () => {
    const codes = ALL_CODES.map(([code]) => code).sort();
    expect([...STYTCH_CODES, ...UNDERSTUDY_SPECIFIC].sort()).toEqual(codes);
  });

  it('defines each code once, in snake_case, across all capabilities', () => {
    const codes = ALL_CODES.map(([code]) => code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
  });

  it.each(ALL_CODES)('renders %s with the status of its kind (%s), its message and its error_url', (code, kind, message) => {
    const status = SPECIAL_STATUS[code] ?? STATUS_BY_KIND[kind];
    const body = renderError(new DomainError(kind, code, message), REQUEST_ID);
    expect(body).toEqual({
      status_code: status,
      request_id: REQUEST_ID,
      error_type: code,
      error_message: message,
      error_url: `https://stytch.com/docs/api-reference/b2b/api/errors/${status}#${code}`,
    });
    expect(message.trim().length).toBeGreaterThan(0);
    expect(status).toBeGreaterThanOrEqual(400);
  });

  it('gives the edge codes their specific statuses: 405, 413 and 415', () => {
    for (const [code, status] of Object.entries(SPECIAL_STATUS)) {
      const entry = SHARED_ERRORS[code as keyof typeof SHARED_ERRORS];
      expect(renderError(new DomainError(entry.kind, code, entry.message), REQUEST_ID).status_code).toBe(status);
    }
  });

  it.each([
    ['an Error', new Error('password=hunter2 at postgres://db.internal')],
    ['a string', 'hunter2 connection refused'],
    ['null', null],
    ['a look-alike object', { kind: 'invalid_argument', code: 'bad_request', message: 'hunter2 leaked' }],
    ['an error with a statusCode', Object.assign(new Error('hunter2'), { statusCode: 400, code: 'EHUNTER2' })],
  ])('renders %s (not a DomainError) as a generic 500 that leaks nothing', (_label, thrown) => {
    const body = renderError(thrown, REQUEST_ID);
    expect(body).toEqual({
      status_code: 500,
      request_id: REQUEST_ID,
      error_type: 'internal_server_error',
      error_message: SHARED_ERRORS.internal_server_error.message,
      error_url: 'https://stytch.com/docs/api-reference/b2b/api/errors/500#internal_server_error',
    });
    expect(JSON.stringify(body)).not.toMatch(/hunter2|postgres|db\.internal/);
  });
});

describe('docs/errors.md', () => {
  const documented = documentedCodes();

  it.each(ALL_CODES)('documents %s with the status it renders with', (code, kind) => {
    const row = documented.get(code);
    expect(row, `${code} is missing from docs/errors.md`).toBeDefined();
    expect(row?.status).toBe(SPECIAL_STATUS[code] ?? STATUS_BY_KIND[kind]);
    expect(row?.meaning.length).toBeGreaterThan(10);
    expect(['Stytch', 'Understudy']).toContain(row?.origin);
  });

  it('documents no code the server does not have', () => {
    const known = new Set(ALL_CODES.map(([code]) => code));
    expect([...documented.keys()].filter((code) => !known.has(code))).toEqual([]);
  });

  it('labels the codes Understudy invented as Understudy and the Stytch ones as Stytch', () => {
    for (const code of UNDERSTUDY_SPECIFIC) expect(documented.get(code)?.origin, code).toBe('Understudy');
    for (const code of STYTCH_CODES) expect(documented.get(code)?.origin, code).toBe('Stytch');
  });
});
