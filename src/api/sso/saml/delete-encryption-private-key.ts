import { stytchOperation } from '../../operation.js';
import { ssoCall } from '../connection-requirements.js';

/** sso.saml.deleteEncryptionPrivateKey: one of the keys encrypted assertions are decrypted with. */
export default stytchOperation({
  operationId: 'api_sso_v1_sso_saml_DeleteEncryptionPrivateKey',
  memberAuthorization: ({ params }, services) => ssoCall(services, params.organization_id, 'delete'),
  async handle({ params, context }, { ssoConnections }) {
    return { private_key_id: await ssoConnections.deleteEncryptionPrivateKey(context, params.organization_id, params.connection_id, params.private_key_id) };
  },
});
