import { encodeOidcConnection } from '../../../http/wire/sso.js';
import { stytchOperation } from '../../operation.js';
import { ssoCall } from '../connection-requirements.js';

/** sso.oidc.createConnection: a pending OIDC connection. */
export default stytchOperation({
  operationId: 'api_sso_v1_sso_oidc_CreateConnection',
  memberAuthorization: ({ params }, services) => ssoCall(services, params.organization_id, 'create'),
  async handle({ params, body, context }, { ssoConnections, publicOrigin }) {
    const view = await ssoConnections.createOidc(context, params.organization_id, { displayName: body.display_name, identityProvider: body.identity_provider });
    return { connection: encodeOidcConnection(view, publicOrigin.url) };
  },
});
