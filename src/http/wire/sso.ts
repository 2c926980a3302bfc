import type { ExternalView, OidcView, SamlView } from '../../domain/sso/connections-service.js';
import { REDACTED_PRIVATE_KEY } from '../../domain/sso/connections-secrets.js';
import type { SsoCertificate } from '../../domain/sso/sso-connection.js';
import { ssoCallbackUrl } from '../../domain/sso/sso-urls.js';

// How SSO connections leave the server (the contract's api_sso_v1_SAMLConnection, OIDCConnection
// and Connection): every required field always present; no secret or private key ever in clear.

/** Stytch's X509Certificate. */
function encodeCertificate(certificate: SsoCertificate) {
  return {
    certificate_id: certificate.certificateId,
    certificate: certificate.certificate,
    issuer: certificate.issuer,
    created_at: certificate.createdAt,
    expires_at: certificate.expiresAt,
  };
}

/** `origin` is the public origin (services.publicOrigin.url): the ACS URL and audience are the connection's callback URL there. */
export function encodeSamlConnection(view: SamlView, origin: string) {
  const { connection, certificates, assignments } = view;
  const callbackUrl = ssoCallbackUrl(origin, connection.connectionId);
  const of = (purpose: SsoCertificate['purpose']) => certificates.filter((certificate) => certificate.purpose === purpose);
  return {
    organization_id: connection.organizationId,
    connection_id: connection.connectionId,
    status: connection.status,
    idp_entity_id: connection.idpEntityId,
    display_name: connection.displayName,
    idp_sso_url: connection.idpSsoUrl,
    acs_url: callbackUrl,
    audience_uri: callbackUrl,
    signing_certificates: of('signing').map(encodeCertificate),
    verification_certificates: of('verification').map(encodeCertificate),
    encryption_private_keys: of('encryption').map((key) => ({ private_key_id: key.certificateId, private_key: REDACTED_PRIVATE_KEY, created_at: key.createdAt })),
    saml_connection_implicit_role_assignments: assignments.filter((assignment) => assignment.group === undefined).map((assignment) => ({ role_id: assignment.roleId })),
    saml_group_implicit_role_assignments: assignments
      .filter((assignment) => assignment.group !== undefined)
      .map((assignment) => ({ role_id: assignment.roleId, group: assignment.group as string })),
    alternative_audience_uri: connection.alternativeAudienceUri,
    identity_provider: connection.identityProvider,
    nameid_format: connection.nameidFormat,
    alternative_acs_url: connection.alternativeAcsUrl,
    idp_initiated_auth_disabled: connection.idpInitiatedAuthDisabled,
    allow_gateway_callback: connection.allowGatewayCallback,
    attribute_mapping: { ...connection.attributeMapping },
  };
}

export function encodeOidcConnection(view: OidcView, origin: string) {
  const { connection } = view;
  return {
    organization_id: connection.organizationId,
    connection_id: connection.connectionId,
    status: connection.status,
    display_name: connection.displayName,
    redirect_url: ssoCallbackUrl(origin, connection.connectionId),
    client_id: connection.clientId,
    client_secret: view.maskedClientSecret,
    issuer: connection.issuer,
    authorization_url: connection.authorizationUrl,
    token_url: connection.tokenUrl,
    userinfo_url: connection.userinfoUrl,
    jwks_url: connection.jwksUrl,
    identity_provider: connection.identityProvider,
    custom_scopes: connection.customScopes,
    attribute_mapping: { ...connection.attributeMapping },
  };
}

/** Stytch's Connection: an external connection. */
export function encodeExternalConnection(view: ExternalView) {
  const { connection, assignments } = view;
  return {
    organization_id: connection.organizationId,
    connection_id: connection.connectionId,
    external_organization_id: connection.externalOrganizationId,
    external_connection_id: connection.externalConnectionId,
    display_name: connection.displayName,
    status: connection.status,
    external_connection_implicit_role_assignments: assignments.filter((assignment) => assignment.group === undefined).map((assignment) => ({ role_id: assignment.roleId })),
    external_group_implicit_role_assignments: assignments
      .filter((assignment) => assignment.group !== undefined)
      .map((assignment) => ({ role_id: assignment.roleId, group: assignment.group as string })),
  };
}
