import { pkceVerifierMatches } from '../../crypto/pkce.js';
import { emptyAsAbsent } from '../common/optional-text.js';
import { emailSignInError } from './errors.js';

// base64url of a SHA-256 digest, without padding.
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** The `pkce_code_challenge` of a send, checked; null when none was given ("" counts as none, as the SDKs send it). */
export function checkCodeChallenge(challenge: string | undefined): string | null {
  if (challenge === undefined || challenge === '') return null;
  if (!CHALLENGE.test(challenge)) throw emailSignInError('invalid_pkce_code_challenge');
  return challenge;
}

/**
 * PKCE at redemption: a token sent with a challenge needs the verifier whose
 * base64url(SHA-256(UTF-8 verifier)) it is; a token sent without one takes none. The verifier's
 * alphabet is not restricted (Stytch's browser SDK uses hex), only its length, as RFC 7636 does.
 */
export function checkCodeVerifier(storedChallenge: string | null, verifier: string | undefined): void {
  const given = emptyAsAbsent(verifier);
  if (storedChallenge === null) {
    if (given !== undefined) throw emailSignInError('pkce_did_not_expect_code_verifier');
    return;
  }
  if (given === undefined) throw emailSignInError('pkce_expected_code_verifier');
  if (given.length < 43 || given.length > 128) throw emailSignInError('invalid_pkce_code_verifier');
  if (!pkceVerifierMatches(storedChallenge, given)) throw emailSignInError('pkce_mismatch');
}
