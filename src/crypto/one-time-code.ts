import { hash } from 'node:crypto';
import type { Random } from '../platform/random.js';
import { digestsMatch } from './opaque-token.js';

/** Six decimal digits, as Stytch's one-time codes (and its pre-built code input) have. */
const CODE = /^\d{6}$/;

/** A uniformly random six-digit code (rejection sampling, so no digit string is likelier than another). */
export function createOneTimeCode(random: Random): string {
  for (;;) {
    const value = random.bytes(4).readUInt32BE(0);
    // 4,294,000,000 is the largest multiple of 1,000,000 below 2^32.
    if (value < 4_294_000_000) return String(value % 1_000_000).padStart(6, '0');
  }
}

/**
 * The stored digest of a code: SHA-256 over the credential's id and the code, so equal codes of
 * two credentials never share a digest. Six digits are a small space, so what keeps a code from
 * being guessed is its few attempts and minutes, not the digest.
 */
export function digestOneTimeCode(credentialId: string, code: string): Buffer {
  return hash('sha256', `${credentialId}:${code}`, 'buffer');
}

/** Whether `presented` is the code whose digest is stored (constant-time); a string that cannot be a code never is. */
export function oneTimeCodeMatches(credentialId: string, presented: string, stored: Buffer): boolean {
  const matches = digestsMatch(digestOneTimeCode(credentialId, presented), stored);
  return CODE.test(presented) && matches;
}
