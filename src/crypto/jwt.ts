import { compactVerify, decodeProtectedHeader, SignJWT, type JWTPayload } from 'jose';
import type { LoadedSigningKey } from './keys/signing-keystore.js';

/**
 * Session JWTs are minted and checked only here, through jose (style rule 16). The header is
 * exactly what the SDK verifies: `alg: RS256`, `kid`, `typ: JWT` (the SDK asks jose for `typ: "JWT"`, which refuses any other).
 */
export async function signJwt(payload: JWTPayload, key: LoadedSigningKey): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
}

export type JwtRejection = 'malformed' | 'unknown_key' | 'bad_signature' | 'wrong_issuer' | 'wrong_audience' | 'not_yet_valid';

/**
 * Verifies signature, issuer, audience and `nbf`, but deliberately not `exp`: Stytch accepts a
 * session JWT past its 5-minute `exp` while the session behind it lives, and answers with a fresh
 * JWT, as Stytch does. The caller decides what an expired JWT may still do.
 */
export async function verifyJwtIgnoringExpiry(
  token: string,
  options: { issuer: string; audience: string; nowSeconds: number; keyFor: (kid: string) => Promise<LoadedSigningKey | undefined> },
): Promise<{ payload: JWTPayload; kid: string } | { rejected: JwtRejection }> {
  let kid: string | undefined;
  try {
    const header = decodeProtectedHeader(token);
    if (header.alg !== 'RS256' || header.typ !== 'JWT' || typeof header.kid !== 'string') return { rejected: 'malformed' };
    kid = header.kid;
  } catch {
    return { rejected: 'malformed' };
  }
  const key = await options.keyFor(kid);
  if (key === undefined) return { rejected: 'unknown_key' };
  let payload: JWTPayload;
  try {
    const verified = await compactVerify(token, key.publicKey, { algorithms: ['RS256'] });
    payload = JSON.parse(new TextDecoder().decode(verified.payload)) as JWTPayload;
  } catch {
    return { rejected: 'bad_signature' };
  }
  if (payload.iss !== options.issuer) return { rejected: 'wrong_issuer' };
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!audiences.includes(options.audience)) return { rejected: 'wrong_audience' };
  if (typeof payload.nbf === 'number' && payload.nbf > options.nowSeconds + 60) return { rejected: 'not_yet_valid' };
  return { payload, kid };
}
