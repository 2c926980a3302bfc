import { stytchOperation } from '../../operation.js';
import { encodeMemberResponse } from './member-response.js';

/** organizations.members.deleteExternalId: clears a member's external id. */
export default stytchOperation({
  operationId: 'api_organization_v1_organizations_members_DeleteExternalId',
  async handle({ params, context }, { members }) {
    return encodeMemberResponse(await members.deleteExternalId(context, params.organization_id, params.member_id));
  },
});
