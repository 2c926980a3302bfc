import { stytchOperation } from '../../operation.js';
import { encodeMemberResponse } from './member-response.js';

/** organizations.members.get: a live member of an organization, by member id (or external id) or by email address. */
export default stytchOperation({
  operationId: 'api_organization_v1_organizations_members_Get',
  async handle({ params, query }, { members }) {
    const result = await members.get(params.organization_id, { memberId: query.member_id, emailAddress: query.email_address });
    return encodeMemberResponse(result);
  },
});
