import { stytchOperation } from '../operation.js';
import { encodeSecondFactorSession } from '../sessions/encode-second-factor-session.js';

/** recoveryCodes.recover: one of the member's recovery codes, once, instead of a TOTP code. */
export default stytchOperation({
  operationId: 'api_b2b_recovery_codes_v1_Recover',
  async handle({ body, context }, { recoveryCodes }) {
    const recovered = await recoveryCodes.recover(context, {
      organizationId: body.organization_id,
      memberId: body.member_id,
      recoveryCode: body.recovery_code,
      intermediateSessionToken: body.intermediate_session_token,
      sessionToken: body.session_token,
      sessionJwt: body.session_jwt,
      sessionDurationMinutes: body.session_duration_minutes,
      sessionCustomClaims: body.session_custom_claims,
    });
    return { ...encodeSecondFactorSession(recovered.outcome), recovery_codes_remaining: recovered.recoveryCodesRemaining };
  },
});
