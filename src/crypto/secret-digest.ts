import { hash } from 'node:crypto';

/**
 * Digests of high-entropy bearer secrets (the project secret). SHA-256 suffices
 * because the secrets are random, not chosen by people (style rule 15).
 */
export function digestSecret(secret: string): string {
  return secretDigestBytes(secret).toString('base64url');
}

/** SHA-256 of a text as 43 base64url characters: a stand-in to compare long texts by without keeping them. */
export function textDigest(text: string): string {
  return hash('sha256', text, 'base64url');
}

/** The 32 bytes behind `digestSecret`, for comparing digests in constant time (`digestsMatch`) without hashing them again. */
export function secretDigestBytes(secret: string): Buffer {
  return hash('sha256', secret, 'buffer');
}
