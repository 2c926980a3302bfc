import { encodeDiscoveredOrganizations } from '../../discovery/encode-discovered-organizations.js';
import { stytchOperation } from '../../operation.js';

/** passwords.discovery.authenticate: the address's password for an intermediate session and the organizations it can enter. */
export default stytchOperation({
  operationId: 'api_b2b_password_v1_b2b_passwords_discovery_Authenticate',
  async handle({ body, context }, { discoveryPasswords }) {
    const result = await discoveryPasswords.authenticate(context, { emailAddress: body.email_address, password: body.password });
    return {
      intermediate_session_token: result.intermediateSessionToken,
      email_address: result.emailAddress,
      discovered_organizations: encodeDiscoveredOrganizations(result.discoveredOrganizations),
    };
  },
});
