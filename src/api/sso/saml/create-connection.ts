import { encodeSamlConnection } from '../../../http/wire/sso.js';
import { stytchOperation } from '../../operation.js';
import { ssoCall } from '../connection-requirements.js';

/** sso.saml.createConnection: a pending SAML connection, with our signing certificate. */
export default stytchOperation({
  operationId: 'api_sso_v1_sso_saml_CreateConnection',
  memberAuthorization: ({ params }, services) => ssoCall(services, params.organization_id, 'create'),
  async handle({ params, body, context }, { ssoConnections, publicOrigin }) {
    const view = await ssoConnections.createSaml(context, params.organization_id, { displayName: body.display_name, identityProvider: body.identity_provider });
    return { connection: encodeSamlConnection(view, publicOrigin.url) };
  },
});
