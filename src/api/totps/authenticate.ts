import { stytchOperation } from '../operation.js';
import { encodeSecondFactorSession } from '../sessions/encode-second-factor-session.js';

/** totps.authenticate: a code of the member's authenticator app, completing their sign-in or stepping up their session. */
export default stytchOperation({
  operationId: 'api_b2b_totp_v1_Authenticate',
  async handle({ body, context }, { totps }) {
    const outcome = await totps.authenticate(context, {
      organizationId: body.organization_id,
      memberId: body.member_id,
      code: body.code,
      intermediateSessionToken: body.intermediate_session_token,
      sessionToken: body.session_token,
      sessionJwt: body.session_jwt,
      sessionDurationMinutes: body.session_duration_minutes,
      sessionCustomClaims: body.session_custom_claims,
      setMfaEnrollment: body.set_mfa_enrollment,
      setDefaultMfa: body.set_default_mfa,
    });
    return encodeSecondFactorSession(outcome);
  },
});
