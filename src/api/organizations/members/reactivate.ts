import { reactivateCall } from '../../member-requirements.js';
import { stytchOperation } from '../../operation.js';
import { encodeMemberResponse } from './member-response.js';

/** organizations.members.reactivate: brings a deleted member back as active. */
export default stytchOperation({
  operationId: 'api_organization_v1_organizations_members_Reactivate',
  /** Bringing a member back is adding one with the roles they had (reactivateCall); a deleted member has no session to act on itself with. */
  memberAuthorization: ({ params }, services) => reactivateCall(services, params),
  async handle({ params, context }, { members }) {
    return encodeMemberResponse(await members.reactivate(context, params.organization_id, params.member_id));
  },
});
