import { METADATA_CHANGE } from '../../../domain/sso/connections-trust.js';
import { encodeSamlConnection } from '../../../http/wire/sso.js';
import { stytchOperation } from '../../operation.js';
import { changeLimitsOf, ssoCall } from '../connection-requirements.js';

/** sso.saml.updateByURL: the IdP's entity id, sign-in URL and certificates, from its metadata (always a change of what the connection trusts). */
export default stytchOperation({
  operationId: 'api_sso_v1_sso_saml_UpdateByURL',
  memberAuthorization: ({ params, context }, services) => ssoCall(services, params.organization_id, 'update', { context, connectionId: params.connection_id, change: METADATA_CHANGE }),
  async handle({ params, body, context }, { ssoConnections, publicOrigin }) {
    const view = await ssoConnections.updateSamlByUrl(context, params.organization_id, params.connection_id, body.metadata_url, changeLimitsOf(context));
    return { connection: encodeSamlConnection(view, publicOrigin.url) };
  },
});
