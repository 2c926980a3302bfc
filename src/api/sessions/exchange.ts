import { stytchOperation } from '../operation.js';
import { encodeExchangeOutcome } from './encode-auth-outcome.js';

/**
 * sessions.exchange: a member session (token or JWT, exactly one) moved into another organization
 * where the address is a member; the source session stays. `locale` is the language of the SMS code
 * sent when MFA is required and the member has a verified phone.
 */
export default stytchOperation({
  operationId: 'api_b2b_session_v1_Exchange',
  async handle({ body, context }, { sessionExchange }) {
    const outcome = await sessionExchange.exchange(context, {
      organizationId: body.organization_id,
      sessionToken: body.session_token,
      sessionJwt: body.session_jwt,
      sessionDurationMinutes: body.session_duration_minutes,
      sessionCustomClaims: body.session_custom_claims,
      locale: body.locale,
    });
    return encodeExchangeOutcome(outcome);
  },
});
