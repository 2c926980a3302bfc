import { encodeMemberSent } from '../../magic-links/encode-member-sent.js';
import { stytchOperation } from '../../operation.js';

/** otps.email.loginOrSignup: a six-digit code, in the login message to an active member and the signup message otherwise. */
export default stytchOperation({
  operationId: 'api_b2b_otp_v1_b2b_otp_email_LoginOrSignup',
  async handle({ body, context }, { emailOtps }) {
    const sent = await emailOtps.loginOrSignup(context, {
      organizationId: body.organization_id,
      emailAddress: body.email_address,
      locale: body.locale,
      loginExpirationMinutes: body.login_expiration_minutes,
      signupExpirationMinutes: body.signup_expiration_minutes,
    });
    return { ...encodeMemberSent(sent), member_created: sent.memberCreated };
  },
});
