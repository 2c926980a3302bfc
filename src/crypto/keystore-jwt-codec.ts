import type { JwtRejection } from './jwt.js';
import { signJwt, verifyJwtIgnoringExpiry } from './jwt.js';
import type { LoadedSigningKey } from './keys/signing-keystore.js';

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
    const result = await verifyJwtIgnoringExpiry(token, {
      issuer: this.#issuer,
      audience: this.#audience,
      nowSeconds: Math.floor(this.#clock.now().getTime() / 1000),
      keyFor: (kid) => this.#keystore.verificationKey(kid),
    });
    return 'rejected' in result ? result : { claims: result.payload as Record<string, unknown> };
  }
}
