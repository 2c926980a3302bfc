import type { SamlUpdateInput } from '../../../domain/sso/connections-saml.js';
import { samlChange } from '../../../domain/sso/connections-trust.js';
import { encodeSamlConnection } from '../../../http/wire/sso.js';
import { type RequestBodyOf, stytchOperation } from '../../operation.js';
import { changeLimitsOf, ssoCall } from '../connection-requirements.js';

/** sso.saml.updateConnection: changes only the fields sent. */
export default stytchOperation({
  operationId: 'api_sso_v1_sso_saml_UpdateConnection',
  // Decided on the very values the service is given (a connection-wide entry carries no group).
  memberAuthorization: ({ params, body, context }, services) =>
    ssoCall(services, params.organization_id, 'update', { context, connectionId: params.connection_id, change: samlChange(decode(body)) }),
  async handle({ params, body, context }, { ssoConnections, publicOrigin }) {
    const view = await ssoConnections.updateSaml(context, params.organization_id, params.connection_id, decode(body), changeLimitsOf(context));
    return { connection: encodeSamlConnection(view, publicOrigin.url) };
  },
});

function decode(body: RequestBodyOf<'api_sso_v1_sso_saml_UpdateConnection'>): SamlUpdateInput {
  return {
    idpEntityId: body.idp_entity_id,
    displayName: body.display_name,
    attributeMapping: body.attribute_mapping,
    x509Certificate: body.x509_certificate,
    idpSsoUrl: body.idp_sso_url,
    connectionImplicitRoleAssignments: body.saml_connection_implicit_role_assignments?.map((entry) => ({ roleId: entry.role_id })),
    groupImplicitRoleAssignments: body.saml_group_implicit_role_assignments?.map((entry) => ({ roleId: entry.role_id, group: entry.group })),
    alternativeAudienceUri: body.alternative_audience_uri,
    identityProvider: body.identity_provider,
    signingPrivateKey: body.signing_private_key,
    nameidFormat: body.nameid_format,
    alternativeAcsUrl: body.alternative_acs_url,
    idpInitiatedAuthDisabled: body.idp_initiated_auth_disabled,
    samlEncryptionPrivateKey: body.saml_encryption_private_key,
    allowGatewayCallback: body.allow_gateway_callback,
  };
}
