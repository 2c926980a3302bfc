import { memberCall } from '../../member-requirements.js';
import { stytchOperation } from '../../operation.js';
import { encodeMemberResponse } from './member-response.js';

/** organizations.members.deleteTOTP: the member's TOTP registration and recovery codes; their sessions stay. */
export default stytchOperation({
  operationId: 'api_organization_v1_organizations_members_DeleteTOTP',
  memberAuthorization: ({ params }, services) => memberCall(services, params.organization_id, params.member_id, ['update.info.delete.mfa-totp']),
  async handle({ params, context }, { totps }) {
    return encodeMemberResponse(await totps.deleteTotp(context, params.organization_id, params.member_id));
  },
});
