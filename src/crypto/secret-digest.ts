import { hash, timingSafeEqual } from 'node:crypto';

/**
 * Digests of high-entropy bearer secrets (project secrets, later tokens). SHA-256 suffices
 * because the secrets are random, not chosen by people (style rule 15).
 */
export function digestSecret(secret: string): string {
  return secretDigestBytes(secret).toString('base64url');
}

/** SHA-256 of a text as 43 base64url characters: a stand-in to compare long texts by without keeping them. */
export function textDigest(text: string): string {
  return hash('sha256', text, 'base64url');
}

/** The 32 bytes behind `digestSecret`, for comparing digests with `timingSafeEqual` without hashing them again. */
export function secretDigestBytes(secret: string): Buffer {
  return hash('sha256', secret, 'buffer');
}

/** Compares two strings in time that depends only on their length, never on where they differ. */
export function constantTimeEqual(left: string, right: string): boolean {
  const a = hash('sha256', left, 'buffer');
  const b = hash('sha256', right, 'buffer');
  return timingSafeEqual(a, b);
}
