import { stytchOperation } from '../../../operation.js';

/** passwords.discovery.email.resetStart: the same answer whether or not the address belongs to anyone. */
export default stytchOperation({
  operationId: 'api_b2b_password_v1_b2b_passwords_discovery_email_ResetStart',
  async handle({ body, context }, { discoveryPasswords }) {
    await discoveryPasswords.resetStart(context, {
      emailAddress: body.email_address,
      resetPasswordRedirectUrl: body.reset_password_redirect_url,
      discoveryRedirectUrl: body.discovery_redirect_url,
      resetPasswordExpirationMinutes: body.reset_password_expiration_minutes,
      pkceCodeChallenge: body.pkce_code_challenge,
      locale: body.locale,
    });
    return {};
  },
});
