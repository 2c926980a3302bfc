import { encodeDiscoveredOrganizations } from '../../../discovery/encode-discovered-organizations.js';
import { stytchOperation } from '../../../operation.js';

/** passwords.discovery.email.reset: the address's new password, for an intermediate session and the organizations it can enter. */
export default stytchOperation({
  operationId: 'api_b2b_password_v1_b2b_passwords_discovery_email_Reset',
  async handle({ body, context }, { discoveryPasswords }) {
    const result = await discoveryPasswords.reset(context, {
      passwordResetToken: body.password_reset_token,
      password: body.password,
      pkceCodeVerifier: body.pkce_code_verifier,
    });
    return {
      intermediate_session_token: result.intermediateSessionToken,
      email_address: result.emailAddress,
      discovered_organizations: encodeDiscoveredOrganizations(result.discoveredOrganizations),
    };
  },
});
