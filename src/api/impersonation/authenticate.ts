import { sharedError } from '../../domain/common/errors.js';
import { stytchOperation } from '../operation.js';
import { encodeAuthOutcome } from '../sessions/encode-auth-outcome.js';

/**
 * impersonation.authenticate: redeems an impersonation token for a member session. Older SDKs
 * send the token as `token` (contract/overrides.json); a call with neither name is refused naming
 * the current one.
 */
export default stytchOperation({
  operationId: 'api_b2b_impersonation_v1_Authenticate',
  async handle({ body, context }, { impersonation }) {
    const token = body.impersonation_token ?? body.token;
    if (token === undefined) throw sharedError('bad_request', 'impersonation_token is required.');
    // An impersonated session is fully authenticated: no intermediate session, no MFA step.
    return encodeAuthOutcome(await impersonation.authenticate(context, token));
  },
});
