import { encodeExternalConnection, encodeOidcConnection, encodeSamlConnection } from '../../http/wire/sso.js';
import { stytchOperation } from '../operation.js';
import { ssoCall } from './connection-requirements.js';

/** sso.getConnections: the organization's SAML, OIDC and external connections, pending ones too. */
export default stytchOperation({
  operationId: 'api_sso_v1_GetConnections',
  memberAuthorization: ({ params }, services) => ssoCall(services, params.organization_id, 'get'),
  async handle({ params }, { ssoConnections, publicOrigin }) {
    const { saml, oidc, external } = await ssoConnections.getConnections(params.organization_id);
    return {
      saml_connections: saml.map((view) => encodeSamlConnection(view, publicOrigin.url)),
      oidc_connections: oidc.map((view) => encodeOidcConnection(view, publicOrigin.url)),
      external_connections: external.map(encodeExternalConnection),
    };
  },
});
