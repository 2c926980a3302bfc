import { encodeDiscoveredOrganizations } from '../../discovery/encode-discovered-organizations.js';
import { stytchOperation } from '../../operation.js';

/** magicLinks.discovery.authenticate: spends a discovery magic link for an intermediate session and the organizations it can enter. */
export default stytchOperation({
  operationId: 'api_b2b_magic_v1_b2b_magic_links_discovery_Authenticate',
  async handle({ body, context }, { discovery }) {
    const result = await discovery.authenticateMagicLink(context, body.discovery_magic_links_token, body.pkce_code_verifier);
    return {
      intermediate_session_token: result.intermediateSessionToken,
      email_address: result.emailAddress,
      discovered_organizations: encodeDiscoveredOrganizations(result.discoveredOrganizations),
    };
  },
});
