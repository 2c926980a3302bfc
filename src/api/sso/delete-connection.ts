import { stytchOperation } from '../operation.js';
import { ssoCall } from './connection-requirements.js';

/** sso.deleteConnection: a SAML, OIDC or external connection of the organization, with everything of it. */
export default stytchOperation({
  operationId: 'api_sso_v1_DeleteConnection',
  memberAuthorization: ({ params }, services) => ssoCall(services, params.organization_id, 'delete'),
  async handle({ params, context }, { ssoConnections }) {
    return { connection_id: await ssoConnections.deleteConnection(context, params.organization_id, params.connection_id) };
  },
});
