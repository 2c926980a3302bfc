import { stytchOperation } from '../operation.js';
import { encodeAuthOutcome } from '../sessions/encode-auth-outcome.js';

/**
 * sso.authenticate: the token an SSO sign-in ended with (`?stytch_token_type=sso&token=…`) for a
 * member session, or an intermediate session when MFA is still required. `telemetry_id` is
 * accepted and ignored (no device fingerprinting here).
 */
export default stytchOperation({
  operationId: 'api_sso_v1_Authenticate',
  async handle({ body, context }, { ssoSignIn }) {
    const outcome = await ssoSignIn.authenticate(context, {
      ssoToken: body.sso_token,
      pkceCodeVerifier: body.pkce_code_verifier,
      sessionToken: body.session_token,
      sessionJwt: body.session_jwt,
      sessionDurationMinutes: body.session_duration_minutes,
      sessionCustomClaims: body.session_custom_claims,
      intermediateSessionToken: body.intermediate_session_token,
      locale: body.locale,
    });
    // Singular in this operation's contract (`reset_session`); an SSO sign-in never resets sessions.
    return { ...encodeAuthOutcome(outcome), reset_session: false };
  },
});
