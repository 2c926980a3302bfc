import { stytchOperation } from '../../operation.js';
import { encodeMemberResponse } from './member-response.js';

/** organizations.members.reactivate: brings a deleted member back as active. */
export default stytchOperation({
  operationId: 'api_organization_v1_organizations_members_Reactivate',
  async handle({ params, context }, { members }) {
    return encodeMemberResponse(await members.reactivate(context, params.organization_id, params.member_id));
  },
});
