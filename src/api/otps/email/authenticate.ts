import { stytchOperation } from '../../operation.js';
import { encodeAuthOutcome } from '../../sessions/encode-auth-outcome.js';

/** otps.email.authenticate: the code sent to the address for this organization, for a member session (or an intermediate one). */
export default stytchOperation({
  operationId: 'api_b2b_otp_v1_b2b_otp_email_Authenticate',
  async handle({ body, context }, { emailOtps }) {
    const { outcome, methodId } = await emailOtps.authenticate(context, {
      organizationId: body.organization_id,
      emailAddress: body.email_address,
      code: body.code,
      sessionToken: body.session_token,
      sessionJwt: body.session_jwt,
      sessionDurationMinutes: body.session_duration_minutes,
      sessionCustomClaims: body.session_custom_claims,
      intermediateSessionToken: body.intermediate_session_token,
      locale: body.locale,
    });
    return { ...encodeAuthOutcome(outcome), method_id: methodId };
  },
});
