import { decryptPrivateKey, encryptPrivateKey } from '../../crypto/keys/key-encryption.js';
import type { Random } from '../../platform/random.js';

/** The Standard Webhooks secret prefix; the base64 of the key follows. */
const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;

/**
 * Endpoints' signing secrets. They must be read back to sign, so they cannot be stored as digests:
 * sealed with AES-256-GCM under the master key (as TOTP secrets and signing keys are), bound to
 * the endpoint's id, so a sealed secret copied onto another endpoint's row does not open.
 */
export class WebhookSecrets {
  readonly #masterKey: Buffer;
  readonly #random: Random;

  constructor(dependencies: { masterKey: Buffer; random: Random }) {
    this.#masterKey = dependencies.masterKey;
    this.#random = dependencies.random;
  }

  /** A new secret, `whsec_` and the base64 of 32 random bytes, and its sealed form for `endpointId`'s row. */
  create(endpointId: string): { secret: string; sealed: string } {
    const secret = `${SECRET_PREFIX}${this.#random.bytes(SECRET_BYTES).toString('base64')}`;
    return { secret, sealed: encryptPrivateKey(secret, { masterKey: this.#masterKey, kid: sealingId(endpointId), random: this.#random }) };
  }

  open(endpointId: string, sealed: string): string {
    return decryptPrivateKey(sealed, { masterKey: this.#masterKey, kid: sealingId(endpointId) });
  }
}

/** The additional data a secret is sealed under: named, so no other kind of sealed value with the same id opens as one. */
function sealingId(endpointId: string): string {
  return `webhook-secret:${endpointId}`;
}
