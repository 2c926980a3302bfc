import { stytchOperation } from '../operation.js';
import { encodeAuthenticatedSession } from './encode-authenticated-session.js';

/** sessions.authenticate (and authenticateJwt): checks a session token or JWT, optionally extends it and checks a permission. */
export default stytchOperation({
  operationId: 'api_b2b_session_v1_Authenticate',
  async handle({ body, context }, { sessions }) {
    const check = body.authorization_check;
    const result = await sessions.authenticate(context, {
      sessionToken: body.session_token,
      sessionJwt: body.session_jwt,
      sessionDurationMinutes: body.session_duration_minutes,
      sessionCustomClaims: body.session_custom_claims,
      // Any value is accepted (contract/overrides.json): a missing or non-string field names no permission, so the check refuses it.
      authorizationCheck: check && { organizationId: String(check.organization_id ?? ''), resourceId: String(check.resource_id ?? ''), action: String(check.action ?? '') },
    });
    return {
      ...encodeAuthenticatedSession(result),
      ...(result.verdict && { verdict: { authorized: result.verdict.authorized, granting_roles: [...result.verdict.grantingRoles] } }),
    };
  },
});
