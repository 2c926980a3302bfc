import { stytchOperation } from '../../operation.js';
import { encodeAuthOutcome } from '../../sessions/encode-auth-outcome.js';

/**
 * passwords.email.reset: spends the reset link, sets the new password, ends the member's other
 * sessions and signs them in (or answers an intermediate session when MFA is required).
 * `telemetry_id` is accepted and ignored.
 */
export default stytchOperation({
  operationId: 'api_b2b_password_v1_b2b_passwords_email_Reset',
  async handle({ body, context }, { passwordResets }) {
    const { outcome, memberEmailId } = await passwordResets.reset(context, {
      passwordResetToken: body.password_reset_token,
      password: body.password,
      codeVerifier: body.code_verifier,
      sessionToken: body.session_token,
      sessionJwt: body.session_jwt,
      sessionDurationMinutes: body.session_duration_minutes,
      sessionCustomClaims: body.session_custom_claims,
      intermediateSessionToken: body.intermediate_session_token,
      locale: body.locale,
    });
    return { ...encodeAuthOutcome(outcome), member_email_id: memberEmailId };
  },
});
