/** What the sessions service needs from the key material: sign claims, and verify a presented JWT. */
export interface SessionJwtCodec {
  /** Signs the claims with the current key; `iat`, `nbf` and `exp` are included by the caller. */
  sign(claims: Record<string, unknown>): Promise<string>;
  /** Verifies signature, issuer and audience (not `exp`); returns the claims or why it was refused. */
  verify(token: string): Promise<{ claims: Record<string, unknown> } | { rejected: 'malformed' | 'unknown_key' | 'bad_signature' | 'wrong_issuer' | 'wrong_audience' | 'not_yet_valid' }>;
}
