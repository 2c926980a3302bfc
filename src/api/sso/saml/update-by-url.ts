import { encodeSamlConnection } from '../../../http/wire/sso.js';
import { stytchOperation } from '../../operation.js';
import { ssoCall } from '../connection-requirements.js';

/** sso.saml.updateByURL: the IdP's entity id, sign-in URL and certificates, from its metadata. */
export default stytchOperation({
  operationId: 'api_sso_v1_sso_saml_UpdateByURL',
  memberAuthorization: ({ params }, services) => ssoCall(services, params.organization_id, 'update'),
  async handle({ params, body, context }, { ssoConnections, publicOrigin }) {
    const view = await ssoConnections.updateSamlByUrl(context, params.organization_id, params.connection_id, body.metadata_url);
    return { connection: encodeSamlConnection(view, publicOrigin.url) };
  },
});
