import type { JwtRejection } from './jwt.js';
import { signJwt, verifyJwtIgnoringExpiry } from './jwt.js';
import type { LoadedSigningKey } from './keys/signing-keystore.js';

/** JWTs remembered as verified, each with its decoded claims (about 2.5 KB together): about 13 MB when full. */
const VERIFIED_CACHE_SIZE = 5_000;

/** What signing and verifying need from the keystore. */
interface KeySource {
  signingKey(): Promise<LoadedSigningKey>;
  verificationKey(kid: string): Promise<LoadedSigningKey | undefined>;
}
import type { Clock } from '../platform/clock.js';

/**
 * Signs with the keystore's current key and verifies against every published key. It has the
 * shape of the sessions domain's `SessionJwtCodec` without importing it (crypto stays a leaf).
 */
export class KeystoreJwtCodec {
  readonly #keystore: KeySource;
  readonly #clock: Clock;
  readonly #issuer: string;
  readonly #audience: string;
  /** JWTs whose signature, issuer and audience checked out, by their exact text; oldest dropped first. */
  readonly #verified = new Map<string, { kid: string; claims: Record<string, unknown> }>();

  constructor(dependencies: { keystore: KeySource; clock: Clock; projectId: string }) {
    this.#keystore = dependencies.keystore;
    this.#clock = dependencies.clock;
    this.#issuer = `stytch.com/${dependencies.projectId}`;
    this.#audience = dependencies.projectId;
  }

  async sign(claims: Record<string, unknown>): Promise<string> {
    return signJwt(claims, await this.#keystore.signingKey());
  }

  async verify(token: string): Promise<{ claims: Record<string, unknown> } | { rejected: JwtRejection }> {
    const known = this.#verified.get(token);
    // A JWT verified before is as good as the key that signed it: still published, it is accepted again
    // without a second RSA verification. Its issuer, audience and signature cannot have changed, and
    // `nbf` only becomes more true with time. The session behind it is still read on every call.
    if (known !== undefined) {
      if ((await this.#keystore.verificationKey(known.kid)) !== undefined) return { claims: known.claims };
      this.#verified.delete(token);
    }
    const result = await verifyJwtIgnoringExpiry(token, {
      issuer: this.#issuer,
      audience: this.#audience,
      nowSeconds: Math.floor(this.#clock.now().getTime() / 1000),
      keyFor: (kid) => this.#keystore.verificationKey(kid),
    });
    if ('rejected' in result) return result;
    const claims = Object.freeze(result.payload) as Record<string, unknown>;
    this.#verified.set(token, { kid: result.kid, claims });
    if (this.#verified.size > VERIFIED_CACHE_SIZE) {
      const oldest = this.#verified.keys().next().value;
      if (oldest !== undefined) this.#verified.delete(oldest);
    }
    return { claims };
  }
}
