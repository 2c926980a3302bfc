import { stytchOperation } from '../../operation.js';
import { encodeMemberResponse } from './member-response.js';

/** organizations.members.dangerouslyGet: a member by id alone, whatever its organization; deleted ones only when asked. */
export default stytchOperation({
  operationId: 'api_organization_v1_organizations_members_DangerouslyGet',
  async handle({ params, query }, { members }) {
    // Query booleans arrive as text; the contract's schema admits only "true" and "false".
    const result = await members.dangerouslyGet(params.member_id, { includeDeleted: query.include_deleted === 'true' });
    return encodeMemberResponse(result);
  },
});
