import { stytchOperation } from '../operation.js';
import { encodeMemberResponse } from '../organizations/members/member-response.js';

/** totps.create: a new authenticator-app registration for the member, pending until its first code. */
export default stytchOperation({
  operationId: 'api_b2b_totp_v1_Create',
  async handle({ body, context }, { totps }) {
    const created = await totps.create(context, {
      organizationId: body.organization_id,
      memberId: body.member_id,
      expirationMinutes: body.expiration_minutes,
      intermediateSessionToken: body.intermediate_session_token,
      sessionToken: body.session_token,
      sessionJwt: body.session_jwt,
    });
    return {
      ...encodeMemberResponse(created),
      totp_registration_id: created.totpRegistrationId,
      secret: created.secret,
      qr_code: created.qrCode,
      recovery_codes: [...created.recoveryCodes],
    };
  },
});
