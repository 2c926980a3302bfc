import { stytchOperation } from '../../operation.js';
import { encodeExchangeOutcome } from '../../sessions/encode-auth-outcome.js';

/**
 * discovery.intermediateSessions.exchange: the intermediate session of a proved address becomes a
 * member session in the organization chosen (joined just-in-time when it allows the address), or
 * comes back unspent with what that organization still requires. `locale` is the language of the
 * SMS code sent when MFA is required and the member has a verified phone.
 */
export default stytchOperation({
  operationId: 'api_discovery_v1_discovery_intermediate_sessions_Exchange',
  async handle({ body, context }, { discoveryExchange }) {
    const outcome = await discoveryExchange.exchange(context, {
      intermediateSessionToken: body.intermediate_session_token,
      organizationId: body.organization_id,
      sessionDurationMinutes: body.session_duration_minutes,
      sessionCustomClaims: body.session_custom_claims,
      locale: body.locale,
    });
    return encodeExchangeOutcome(outcome);
  },
});
