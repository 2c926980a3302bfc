import { passwordOwnerCall } from '../../member-requirements.js';
import { stytchOperation } from '../../operation.js';
import { encodeMemberResponse } from './member-response.js';

/** organizations.members.deletePassword: the member's password by its id; they can no longer sign in with one until they set another. */
export default stytchOperation({
  operationId: 'api_organization_v1_organizations_members_DeletePassword',
  memberAuthorization: ({ params, context }, services) => passwordOwnerCall(services, context, params.organization_id, params.member_password_id),
  async handle({ params, context }, { passwords }) {
    return encodeMemberResponse(await passwords.deletePassword(context, params.organization_id, params.member_password_id));
  },
});
