import { stytchOperation } from '../../operation.js';
import { encodeDiscoveredOrganizations } from '../encode-discovered-organizations.js';

/** discovery.organizations.list: the organizations an intermediate session's or a member session's address can enter; spends nothing. */
export default stytchOperation({
  operationId: 'api_discovery_v1_discovery_organizations_List',
  async handle({ body }, { discovery }) {
    const listing = await discovery.listOrganizations({
      intermediateSessionToken: body.intermediate_session_token,
      sessionToken: body.session_token,
      sessionJwt: body.session_jwt,
    });
    return {
      email_address: listing.emailAddress,
      discovered_organizations: encodeDiscoveredOrganizations(listing.discoveredOrganizations),
      organization_id_hint: listing.organizationIdHint,
    };
  },
});
