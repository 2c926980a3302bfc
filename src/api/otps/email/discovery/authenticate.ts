import { encodeDiscoveredOrganizations } from '../../../discovery/encode-discovered-organizations.js';
import { stytchOperation } from '../../../operation.js';

/** otps.email.discovery.authenticate: spends a discovery code for an intermediate session and the organizations it can enter. */
export default stytchOperation({
  operationId: 'api_b2b_otp_v1_b2b_otp_email_discovery_Authenticate',
  async handle({ body, context }, { discovery }) {
    const result = await discovery.authenticateCode(context, body.email_address, body.code);
    return {
      intermediate_session_token: result.intermediateSessionToken,
      email_address: result.emailAddress,
      discovered_organizations: encodeDiscoveredOrganizations(result.discoveredOrganizations),
    };
  },
});
