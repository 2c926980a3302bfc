import { createHmac, hash, hkdfSync } from 'node:crypto';

/**
 * PKCE towards the identity provider without storing a verifier: it is an HMAC of the request's
 * state token under a key derived from the master key. The state token is known only to the
 * browser (only its digest is stored), and the key never leaves the server, so neither the stored
 * request nor anything in the IdP's URLs lets anyone compute the verifier; an authorization code
 * stolen on its way back cannot be exchanged without both.
 */
export class OidcPkce {
  readonly #key: Buffer;

  constructor(masterKey: Buffer) {
    // A key of its own (HKDF, distinct info), so this use of the master key cannot collide with another.
    this.#key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'understudy oidc pkce code verifier', 32));
  }

  /** base64url of 32 bytes: 43 characters of RFC 7636's unreserved alphabet. */
  verifier(state: string): string {
    return createHmac('sha256', this.#key).update(state, 'utf8').digest('base64url');
  }

  /** S256: base64url(SHA-256(verifier)). */
  challenge(state: string): string {
    return hash('sha256', this.verifier(state), 'base64url');
  }
}
