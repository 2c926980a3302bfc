import { stytchOperation } from '../../operation.js';
import { encodeMemberSent } from '../encode-member-sent.js';

/** magicLinks.email.loginOrSignup: a login link to an active member, a signup link to a new, pending or invited one. */
export default stytchOperation({
  operationId: 'api_b2b_magic_v1_b2b_magic_links_email_LoginOrSignup',
  async handle({ body, context }, { magicLinks }) {
    const sent = await magicLinks.loginOrSignup(context, {
      organizationId: body.organization_id,
      emailAddress: body.email_address,
      loginRedirectUrl: body.login_redirect_url,
      signupRedirectUrl: body.signup_redirect_url,
      pkceCodeChallenge: body.pkce_code_challenge,
      locale: body.locale,
      loginExpirationMinutes: body.login_expiration_minutes,
      signupExpirationMinutes: body.signup_expiration_minutes,
    });
    return { ...encodeMemberSent(sent), member_created: sent.memberCreated };
  },
});
