import { stytchOperation } from '../../operation.js';
import { encodeAuthOutcome } from '../../sessions/encode-auth-outcome.js';

/**
 * passwords.existingPassword.reset: the existing password proves the member, the new one replaces
 * it, the member's other sessions end, and they are signed in. Its contract has no
 * `organization_id` (the organization is in `organization`).
 */
export default stytchOperation({
  operationId: 'api_b2b_password_v1_b2b_passwords_existing_password_Reset',
  async handle({ body, context }, { passwords }) {
    const outcome = await passwords.resetExistingPassword(context, {
      organizationId: body.organization_id,
      emailAddress: body.email_address,
      existingPassword: body.existing_password,
      newPassword: body.new_password,
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
