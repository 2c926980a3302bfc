import { stytchOperation } from '../../../operation.js';

/** otps.email.discovery.send: a discovery code; the same answer whether or not the address belongs to anyone. */
export default stytchOperation({
  operationId: 'api_b2b_otp_v1_b2b_otp_email_discovery_Send',
  async handle({ body, context }, { discovery }) {
    await discovery.sendCode(context, { emailAddress: body.email_address, locale: body.locale, expirationMinutes: body.discovery_expiration_minutes });
    return {};
  },
});
