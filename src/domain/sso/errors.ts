import { errorFactory, type ErrorKind } from '../common/domain-error.js';

/**
 * SSO error codes: Stytch's `error_type` values (docs/errors.md). A refused IdP answer is recorded
 * in the audit log with its code before it is answered.
 */
export const SSO_ERRORS = {
  // Connections.
  sso_connection_not_found: { kind: 'not_found', message: 'No SSO connection of this organization has this connection_id.' },
  saml_connection_not_found: { kind: 'not_found', message: 'No SAML connection of this organization has this connection_id.' },
  oidc_connection_not_found: { kind: 'not_found', message: 'No OIDC connection of this organization has this connection_id.' },
  invalid_sso_idp: { kind: 'invalid_argument', message: 'identity_provider must be one of classlink, cyberark, duo, generic, google-workspace, jumpcloud, keycloak, miniorange, microsoft-entra, okta, onelogin, pingfederate, rippling, salesforce, shibboleth.' },
  invalid_display_name: { kind: 'invalid_argument', message: 'display_name must be at most 256 characters.' },
  too_many_sso_connections: { kind: 'precondition_failed', message: 'An organization may have at most 50 SSO connections.' },
  invalid_x509_certificate: { kind: 'invalid_argument', message: 'x509_certificate must be one PEM-encoded X.509 certificate.' },
  too_many_sso_verification_certificates: { kind: 'precondition_failed', message: 'A SAML connection may have at most 5 verification certificates.' },
  sso_verification_key_not_found: { kind: 'not_found', message: 'This SAML connection has no verification certificate with this certificate_id.' },
  cannot_delete_last_sso_verification_key: { kind: 'precondition_failed', message: 'An active SAML connection needs a verification certificate: add another before deleting this one.' },
  invalid_idp_entity_id: { kind: 'invalid_argument', message: 'idp_entity_id must be 1 to 1024 characters.' },
  saml_connection_idp_sso_url_invalid_format: { kind: 'invalid_argument', message: 'idp_sso_url must be an absolute https:// URL (http:// only for localhost).' },
  saml_connection_no_nested_keys_in_attribute_mapping: { kind: 'invalid_argument', message: 'attribute_mapping maps each key to one attribute name (a string): no nested objects or lists.' },
  saml_signing_private_key_invalid: { kind: 'invalid_argument', message: 'signing_private_key must be a PEM-encoded RSA private key.' },
  private_key_too_long: { kind: 'invalid_argument', message: 'The private key is longer than 16384 characters.' },
  invalid_saml_metadata_url: { kind: 'invalid_argument', message: 'metadata_url must be an https:// URL that answers with SAML metadata within 5 seconds and 1 MiB.' },
  invalid_xml_from_saml_metadata_url: { kind: 'invalid_argument', message: "The metadata URL's answer is not SAML IdP metadata (an EntityDescriptor with an IDPSSODescriptor)." },
  saml_connection_metadata_invalid_format: { kind: 'invalid_argument', message: 'The SAML metadata lacks an entity id, an HTTP-Redirect or HTTP-POST sign-in URL, or a signing certificate.' },
  oidc_connection_issuer_url_invalid_format: { kind: 'invalid_argument', message: 'issuer must be an absolute https:// URL (http:// only for localhost).' },
  oidc_connection_authorization_url_invalid_format: { kind: 'invalid_argument', message: 'authorization_url must be an absolute https:// URL (http:// only for localhost).' },
  oidc_connection_token_url_invalid_format: { kind: 'invalid_argument', message: 'token_url must be an absolute https:// URL (http:// only for localhost).' },
  oidc_connection_userinfo_url_invalid_format: { kind: 'invalid_argument', message: 'userinfo_url must be an absolute https:// URL (http:// only for localhost).' },
  oidc_connection_jwks_url_invalid_format: { kind: 'invalid_argument', message: 'jwks_url must be an absolute https:// URL (http:// only for localhost).' },
  invalid_issuer: { kind: 'invalid_argument', message: "The issuer's discovery document (/.well-known/openid-configuration) could not be read, or names another issuer." },
  client_secret_too_long: { kind: 'invalid_argument', message: 'client_secret must be at most 1024 characters.' },
  cannot_delete_default_sso_connection: { kind: 'precondition_failed', message: "This connection is the organization's sso_default_connection_id: choose another default (or none) first." },
  invalid_sso_default_connection_id: { kind: 'invalid_argument', message: 'sso_default_connection_id must be one of the organization\'s SSO connections.' },
  invalid_connection_for_jit_provisioning: { kind: 'invalid_argument', message: "sso_jit_provisioning_allowed_connections may list only the organization's SSO connections." },
  invalid_restricted_sso_setting: { kind: 'invalid_argument', message: 'sso_jit_provisioning RESTRICTED needs at least one connection in sso_jit_provisioning_allowed_connections.' },
  external_connection_id_not_found: { kind: 'not_found', message: 'The external organization has no SAML or OIDC connection with this external_connection_id.' },
  external_connection_not_active: { kind: 'precondition_failed', message: 'The external connection is not active.' },
  external_organization_id_same_as_organization_id: { kind: 'invalid_argument', message: 'An external connection borrows a connection of another organization, not of its own.' },
  duplicate_external_sso_connection: { kind: 'already_exists', message: 'The organization already has an external connection to this connection.' },
  saml_connection_idp_sso_url_not_https: { kind: 'invalid_argument', message: 'idp_sso_url must use https:// (http:// only for localhost).' },
  saml_connection_attribute_mapping_missing_groups_key: { kind: 'invalid_argument', message: 'Group implicit role assignments need a "groups" key in the attribute_mapping of the connection the members sign in through.' },
  oidc_connection_client_id_required: { kind: 'invalid_argument', message: 'client_id cannot be empty.' },
  oidc_connection_client_secret_required: { kind: 'invalid_argument', message: 'client_secret cannot be empty.' },
  oidc_connection_issuer_required: { kind: 'invalid_argument', message: 'issuer cannot be empty.' },
  oidc_connection_authorization_url_required: { kind: 'invalid_argument', message: 'authorization_url cannot be empty.' },
  oidc_connection_token_url_required: { kind: 'invalid_argument', message: 'token_url cannot be empty.' },
  oidc_connection_jwks_url_required: { kind: 'invalid_argument', message: 'jwks_url cannot be empty.' },
  // Understudy's own (no Stytch error type says these).
  invalid_sso_connection_setting: { kind: 'invalid_argument', message: 'A setting of the SSO connection is not valid.' },
  saml_encryption_private_key_invalid: { kind: 'invalid_argument', message: 'saml_encryption_private_key must be a PEM-encoded RSA private key (PKCS#1 or PKCS#8).' },
  too_many_saml_encryption_private_keys: { kind: 'precondition_failed', message: 'A SAML connection may have at most 5 encryption private keys: delete one first.' },
  saml_encryption_private_key_not_found: { kind: 'not_found', message: 'This SAML connection has no encryption private key with this private_key_id.' },

  // Starting a sign-in.
  public_token_required: { kind: 'invalid_argument', message: 'public_token is required.' },
  public_token_not_found: { kind: 'unauthenticated', message: "public_token is not this project's public token." },
  missing_sso_connection_locator: { kind: 'invalid_argument', message: 'connection_id is required.' },
  requires_active_sso_connection: { kind: 'precondition_failed', message: 'This SSO connection is not active yet: finish its setup first.' },

  // The IdP's answer (SAML).
  missing_saml_response: { kind: 'invalid_argument', message: 'The request carries no SAMLResponse.' },
  missing_saml_relay_state: { kind: 'invalid_argument', message: 'The request carries no RelayState, or one of no sign-in started here.' },
  invalid_xml_saml_response: { kind: 'invalid_argument', message: 'The SAMLResponse is not a well-formed SAML Response.' },
  invalid_saml_response: { kind: 'invalid_argument', message: 'The SAML response was refused.' },
  missing_signature_saml_response: { kind: 'invalid_argument', message: 'The SAML assertion is not signed; the connection accepts only signed assertions.' },
  invalid_signature_saml_response: { kind: 'invalid_argument', message: "The SAML response's signature does not verify against the connection's verification certificates." },
  invalid_audience_saml_response: { kind: 'invalid_argument', message: "The SAML assertion is for another audience or recipient than this connection's." },
  expired_saml_response: { kind: 'invalid_argument', message: 'The SAML assertion has expired (NotOnOrAfter has passed).' },
  not_yet_valid_saml_response: { kind: 'invalid_argument', message: 'The SAML assertion is not valid yet (NotBefore is in the future).' },
  duplicate_saml_response: { kind: 'invalid_argument', message: 'This SAML assertion was already used.' },
  unsolicited_saml_response: { kind: 'invalid_argument', message: 'The SAML response answers no sign-in started here (InResponseTo).' },
  failed_saml_response: { kind: 'invalid_argument', message: 'The identity provider answered that the sign-in failed.' },
  invalid_saml_response_email: { kind: 'invalid_argument', message: 'The SAML assertion carries no valid email address (NameID or the mapped email attribute).' },

  // The IdP's answer (OIDC).
  missing_oidc_state_param: { kind: 'invalid_argument', message: 'The callback carries no state, or one of no sign-in started here.' },
  oidc_invalid_callback_request: { kind: 'invalid_argument', message: 'The callback carries neither an authorization code nor an error.' },
  oidc_auth_code_error: { kind: 'invalid_argument', message: "The identity provider's token endpoint refused the authorization code." },
  id_token_invalid: { kind: 'invalid_argument', message: "The identity provider's ID token was refused (signature or issuer)." },
  id_token_incorrect_audience: { kind: 'invalid_argument', message: "The ID token is for another client than this connection's client_id." },
  id_token_expired: { kind: 'invalid_argument', message: 'The ID token has expired.' },
  id_token_nonce_invalid: { kind: 'invalid_argument', message: "The ID token's nonce is not the one this sign-in sent." },
  oidc_response_subject_missing: { kind: 'invalid_argument', message: 'The identity provider asserted no subject (sub).' },
  oidc_response_email_missing: { kind: 'invalid_argument', message: 'The identity provider asserted no email address.' },
  oidc_response_unverified_email: { kind: 'invalid_argument', message: "The identity provider says the member's email address is not verified." },
  oidc_invalid_userinfo: { kind: 'invalid_argument', message: "The identity provider's userinfo answer could not be used." },
  unsolicited_oidc_response: { kind: 'invalid_argument', message: 'The OIDC answer is for another connection than the sign-in it names.' },
  expired_oidc_response: { kind: 'invalid_argument', message: 'The sign-in this answer belongs to lapsed or was already finished; start again.' },

  // sso.authenticate.
  sso_token_not_found: { kind: 'not_found', message: 'The SSO token is unknown, expired or already used.' },
  sso_connection_organization_mismatch: { kind: 'invalid_argument', message: "The intermediate session is for another organization than the SSO connection's." },
} as const satisfies Record<string, { kind: ErrorKind; message: string }>;

export type SsoErrorCode = keyof typeof SSO_ERRORS;

export const ssoError = errorFactory(SSO_ERRORS);
