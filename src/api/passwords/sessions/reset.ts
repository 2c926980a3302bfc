import { stytchOperation } from '../../operation.js';
import { encodeAuthOutcome } from '../../sessions/encode-auth-outcome.js';

/**
 * passwords.sessions.reset: a recently authenticated session sets the member's password; it stays
 * (same token, a new JWT) and the member's other sessions end. Its contract has neither
 * `organization_id` nor `primary_required`.
 */
export default stytchOperation({
  operationId: 'api_b2b_password_v1_b2b_passwords_session_Reset',
  async handle({ body, context }, { passwords }) {
    const outcome = await passwords.resetBySession(context, {
      organizationId: body.organization_id,
      password: body.password,
      sessionToken: body.session_token,
      sessionJwt: body.session_jwt,
      sessionDurationMinutes: body.session_duration_minutes,
      sessionCustomClaims: body.session_custom_claims,
      locale: body.locale,
    });
    const { organization_id: _organizationId, ...answer } = encodeAuthOutcome(outcome);
    return answer;
  },
});
