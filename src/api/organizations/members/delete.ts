import { memberCall } from '../../member-requirements.js';
import { stytchOperation } from '../../operation.js';

/** organizations.members.delete: marks a member deleted and ends their sessions. */
export default stytchOperation({
  operationId: 'api_organization_v1_organizations_members_Delete',
  memberAuthorization: ({ params }, services) => memberCall(services, params.organization_id, params.member_id, ['delete']),
  async handle({ params, context }, { members }) {
    return { member_id: await members.delete(context, params.organization_id, params.member_id) };
  },
});
