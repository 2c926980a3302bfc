import { ANY_ACTION } from '../../../domain/rbac/policy.js';
import { memberCall } from '../../member-requirements.js';
import { stytchOperation } from '../../operation.js';
import { encodeMemberResponse } from './member-response.js';

/** organizations.members.deleteExternalId: clears a member's external id. */
export default stytchOperation({
  operationId: 'api_organization_v1_organizations_members_DeleteExternalId',
  /** Stytch names no action for the external id: only a role granted all of stytch.member may clear it (stytch.self has no `*`). */
  memberAuthorization: ({ params }, services) => memberCall(services, params.organization_id, params.member_id, [ANY_ACTION]),
  async handle({ params, context }, { members }) {
    return encodeMemberResponse(await members.deleteExternalId(context, params.organization_id, params.member_id));
  },
});
