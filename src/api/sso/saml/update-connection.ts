import { encodeSamlConnection } from '../../../http/wire/sso.js';
import { stytchOperation } from '../../operation.js';
import { ssoCall } from '../connection-requirements.js';

/** sso.saml.updateConnection: changes only the fields sent. */
export default stytchOperation({
  operationId: 'api_sso_v1_sso_saml_UpdateConnection',
  memberAuthorization: ({ params, body }, services) =>
    ssoCall(services, params.organization_id, 'update', {
      connectionId: params.connection_id,
      assignments: [...(body.saml_connection_implicit_role_assignments ?? []), ...(body.saml_group_implicit_role_assignments ?? [])],
    }),
  async handle({ params, body, context }, { ssoConnections, publicOrigin }) {
    const view = await ssoConnections.updateSaml(context, params.organization_id, params.connection_id, {
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
    });
    return { connection: encodeSamlConnection(view, publicOrigin.url) };
  },
});
