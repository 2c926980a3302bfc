import { decryptPrivateKey, encryptPrivateKey } from '../../crypto/keys/key-encryption.js';
import type { Random } from '../../platform/random.js';

/**
 * TOTP secrets and recovery codes at rest: AES-256-GCM under the master key, each bound to its
 * row's id (as additional data), so a sealed value copied onto another row does not open. Neither
 * can be hashed: a secret is needed to check a code, and recoveryCodes.get shows the codes again.
 */
export class MfaSealer {
  readonly #masterKey: Buffer;
  readonly #random: Random;

  constructor(dependencies: { masterKey: Buffer; random: Random }) {
    this.#masterKey = dependencies.masterKey;
    this.#random = dependencies.random;
  }

  seal(rowId: string, plaintext: string): string {
    return encryptPrivateKey(plaintext, { masterKey: this.#masterKey, kid: rowId, random: this.#random });
  }

  open(rowId: string, sealed: string): string {
    return decryptPrivateKey(sealed, { masterKey: this.#masterKey, kid: rowId });
  }
}
