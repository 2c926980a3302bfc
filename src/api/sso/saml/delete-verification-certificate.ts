import { stytchOperation } from '../../operation.js';
import { ssoCall } from '../connection-requirements.js';

/** sso.saml.deleteVerificationCertificate: one of the IdP's certificates (never an active connection's last). */
export default stytchOperation({
  operationId: 'api_sso_v1_sso_saml_DeleteVerificationCertificate',
  memberAuthorization: ({ params }, services) => ssoCall(services, params.organization_id, 'delete'),
  async handle({ params, context }, { ssoConnections }) {
    return { certificate_id: await ssoConnections.deleteVerificationCertificate(context, params.organization_id, params.connection_id, params.certificate_id) };
  },
});
