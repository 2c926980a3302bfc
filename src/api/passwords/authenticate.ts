import { stytchOperation } from '../operation.js';
import { encodeAuthOutcome } from '../sessions/encode-auth-outcome.js';

/**
 * passwords.authenticate: an organization's member by email address and password, for a member
 * session, or an intermediate session when MFA is required. `telemetry_id` is accepted and ignored
 * (no device fingerprinting here), so `member_device` is never answered.
 */
export default stytchOperation({
  operationId: 'api_b2b_password_v1_Authenticate',
  async handle({ body, context }, { passwords }) {
    const outcome = await passwords.authenticate(context, {
      organizationId: body.organization_id,
      emailAddress: body.email_address,
      password: body.password,
      sessionToken: body.session_token,
      sessionJwt: body.session_jwt,
      sessionDurationMinutes: body.session_duration_minutes,
      sessionCustomClaims: body.session_custom_claims,
      intermediateSessionToken: body.intermediate_session_token,
      locale: body.locale,
    });
    return encodeAuthOutcome(outcome);
  },
});
