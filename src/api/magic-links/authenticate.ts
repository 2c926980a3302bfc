import { stytchOperation } from '../operation.js';
import { encodeAuthOutcome } from '../sessions/encode-auth-outcome.js';

/**
 * magicLinks.authenticate: an organization's magic link (login, signup or invite) for a member
 * session, or an intermediate session when the organization requires MFA. `telemetry_id` is
 * accepted and ignored (no device fingerprinting here).
 */
export default stytchOperation({
  operationId: 'api_b2b_magic_v1_Authenticate',
  async handle({ body, context }, { magicLinks }) {
    const { outcome, methodId } = await magicLinks.authenticate(context, {
      magicLinksToken: body.magic_links_token,
      pkceCodeVerifier: body.pkce_code_verifier,
      sessionToken: body.session_token,
      sessionJwt: body.session_jwt,
      sessionDurationMinutes: body.session_duration_minutes,
      sessionCustomClaims: body.session_custom_claims,
      intermediateSessionToken: body.intermediate_session_token,
      locale: body.locale,
    });
    // Sessions are never reset by an email sign-in (Stytch resets them only for some password flows).
    return { ...encodeAuthOutcome(outcome), method_id: methodId, reset_sessions: false };
  },
});
