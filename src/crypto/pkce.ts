import { hash, timingSafeEqual } from 'node:crypto';

/** Whether `challenge` is base64url(SHA-256(UTF-8 `verifier`)) (RFC 7636 S256), compared in constant time. */
export function pkceVerifierMatches(challenge: string, verifier: string): boolean {
  const computed = Buffer.from(hash('sha256', verifier, 'base64url'));
  const stored = Buffer.from(challenge);
  return computed.length === stored.length && timingSafeEqual(computed, stored);
}
