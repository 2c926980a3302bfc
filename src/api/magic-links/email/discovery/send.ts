import { stytchOperation } from '../../../operation.js';

/** magicLinks.email.discovery.send: a discovery magic link; the same answer whether or not the address belongs to anyone. */
export default stytchOperation({
  operationId: 'api_b2b_magic_v1_b2b_magic_links_email_discovery_Send',
  async handle({ body, context }, { discovery }) {
    await discovery.sendMagicLink(context, {
      emailAddress: body.email_address,
      redirectUrl: body.discovery_redirect_url,
      pkceCodeChallenge: body.pkce_code_challenge,
      locale: body.locale,
      expirationMinutes: body.discovery_expiration_minutes,
    });
    return {};
  },
});
