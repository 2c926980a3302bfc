import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Digests of high-entropy bearer secrets (project secrets, later tokens). SHA-256 suffices
 * because the secrets are random, not chosen by people (style rule 15).
 */
export function digestSecret(secret: string): string {
  return secretDigestBytes(secret).toString('base64url');
}

/** The 32 bytes behind `digestSecret`, for comparing digests with `timingSafeEqual` without hashing them again. */
export function secretDigestBytes(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Compares two strings in time that depends only on their length, never on where they differ. */
export function constantTimeEqual(left: string, right: string): boolean {
  const a = createHash('sha256').update(left, 'utf8').digest();
  const b = createHash('sha256').update(right, 'utf8').digest();
  return timingSafeEqual(a, b);
}
