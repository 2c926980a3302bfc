import { stytchOperation } from '../../operation.js';
import { encodeMemberResponse } from '../../organizations/members/member-response.js';

/** otps.sms.send: a one-time code to the member's phone (linking `mfa_phone_number` to a member who has none). */
export default stytchOperation({
  operationId: 'api_b2b_otp_v1_b2b_otp_sms_Send',
  async handle({ body, context }, { smsOtps }) {
    return encodeMemberResponse(
      await smsOtps.send(context, {
        organizationId: body.organization_id,
        memberId: body.member_id,
        mfaPhoneNumber: body.mfa_phone_number,
        locale: body.locale,
        intermediateSessionToken: body.intermediate_session_token,
        sessionToken: body.session_token,
        sessionJwt: body.session_jwt,
      }),
    );
  },
});
