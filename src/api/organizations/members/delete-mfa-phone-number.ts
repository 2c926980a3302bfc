import { memberCall } from '../../member-requirements.js';
import { stytchOperation } from '../../operation.js';
import { encodeMemberResponse } from './member-response.js';

/** organizations.members.deleteMFAPhoneNumber: clears a member's MFA phone number (and an sms_otp default MFA method). */
export default stytchOperation({
  operationId: 'api_organization_v1_organizations_members_DeleteMFAPhoneNumber',
  memberAuthorization: ({ params }, services) => memberCall(services, params.organization_id, params.member_id, ['update.info.delete.mfa-phone']),
  async handle({ params, context }, { members }) {
    return encodeMemberResponse(await members.deleteMFAPhoneNumber(context, params.organization_id, params.member_id));
  },
});
