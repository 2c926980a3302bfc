import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Random } from '../../platform/random.js';
import { decryptPrivateKey, encryptPrivateKey } from './key-encryption.js';
import { MasterKeyError } from './master-key.js';
import type { SigningKeysStore, StoredSigningKey } from './signing-keys-store.js';

/** Session JWTs live 5 minutes, as Stytch's do; a retired key stays published that long, plus skew. */
export const JWT_LIFETIME_SECONDS = 300;
const CLOCK_SKEW_SECONDS = 60;
/** A rotated-in key is published this long before it signs, so every process and JWKS cache sees it first. */
export const DEFAULT_ACTIVATION_DELAY_SECONDS = 60;
/** Processes re-read the key table this often; shorter than the activation delay by design. */
const RELOAD_INTERVAL_MILLISECONDS = 15_000;

export interface LoadedSigningKey {
  readonly kid: string;
  readonly publicJwk: JWK;
  readonly publicKey: CryptoKey;
  readonly privateKey: CryptoKey;
  readonly stored: StoredSigningKey;
}

export type KeyState = 'next' | 'signing' | 'published' | 'retired';

/** A key change, told to `onKeyEvent` inside the transaction that makes it (for the audit trail). */
export interface KeyEvent {
  readonly type: 'signing_key.created' | 'signing_key.rotated';
  readonly kid: string;
  readonly activeFrom: string;
  readonly retiring: readonly string[];
}

export interface SigningKeystoreDependencies<Tx extends { signingKeys: SigningKeysStore }> {
  readonly store: { transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T>; signingKeys: SigningKeysStore };
  readonly masterKey: Buffer;
  readonly clock: Clock;
  readonly random: Random;
  readonly ids: IdGenerator;
  /** Called in the same transaction as every key creation and rotation; its failure undoes the change. */
  readonly onKeyEvent?: (tx: Tx, event: KeyEvent) => Promise<void>;
}

/**
 * The one home of key material (style rule 16): generation, rotation, the signing key of the
 * moment and the public JWKS. Every process reads the same table, so all sign and publish alike.
 */
export class SigningKeystore<Tx extends { signingKeys: SigningKeysStore } = { signingKeys: SigningKeysStore }> {
  readonly #dependencies: SigningKeystoreDependencies<Tx>;
  #keys: LoadedSigningKey[] = [];
  #loadedAt = Number.NEGATIVE_INFINITY;

  constructor(dependencies: SigningKeystoreDependencies<Tx>) {
    this.#dependencies = dependencies;
  }

  /** At start: creates the first key when there is none, then loads every key. */
  async ensureSigningKey(): Promise<void> {
    await this.#dependencies.store.transaction(async (tx) => {
      await tx.signingKeys.lockSigningKeys();
      const existing = await tx.signingKeys.listSigningKeys();
      if (existing.some((key) => key.activeUntil === null)) return;
      const key = await this.#newKey(this.#dependencies.clock.now());
      await tx.signingKeys.insertSigningKey(key);
      await this.#dependencies.onKeyEvent?.(tx, { type: 'signing_key.created', kid: key.kid, activeFrom: key.activeFrom, retiring: [] });
    });
    await this.reload();
  }

  /**
   * Starts a rotation: the new key is published now and signs after `activationDelaySeconds`; the
   * current key signs until then and stays published until every JWT it signed has expired.
   */
  async rotate(options: { activationDelaySeconds?: number } = {}): Promise<StoredSigningKey> {
    const now = this.#dependencies.clock.now();
    const activeFrom = new Date(now.getTime() + (options.activationDelaySeconds ?? DEFAULT_ACTIVATION_DELAY_SECONDS) * 1000);
    const publishedUntil = new Date(activeFrom.getTime() + (JWT_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS) * 1000);
    const created = await this.#dependencies.store.transaction(async (tx) => {
      await tx.signingKeys.lockSigningKeys();
      const retiring: string[] = [];
      for (const key of await tx.signingKeys.listSigningKeys()) {
        // Also a key already scheduled to stop later than the new one starts (a rotation during the
        // delay of an earlier one): it stops when the new key takes over, not when it was to.
        if (key.activeUntil === null || key.activeUntil > toTimestamp(activeFrom)) {
          await tx.signingKeys.scheduleSigningKeyRetirement(key.kid, toTimestamp(activeFrom), toTimestamp(publishedUntil));
          retiring.push(key.kid);
        }
      }
      const key = await this.#newKey(now, activeFrom);
      await tx.signingKeys.insertSigningKey(key);
      await this.#dependencies.onKeyEvent?.(tx, { type: 'signing_key.rotated', kid: key.kid, activeFrom: key.activeFrom, retiring });
      return key;
    });
    await this.reload();
    return created;
  }

  async reload(): Promise<void> {
    const stored = await this.#dependencies.store.signingKeys.listSigningKeys();
    const loaded: LoadedSigningKey[] = [];
    for (const key of stored) {
      const cached = this.#keys.find((candidate) => candidate.kid === key.kid);
      loaded.push(cached ? { ...cached, stored: key } : await this.#load(key));
    }
    this.#keys = loaded;
    this.#loadedAt = this.#dependencies.clock.now().getTime();
  }

  /** The key that signs at this moment: the newest whose activation has come. */
  async signingKey(): Promise<LoadedSigningKey> {
    await this.#reloadIfStale();
    const now = this.#dependencies.clock.now();
    const candidates = this.#keys.filter((key) => stateAt(key.stored, now) === 'signing');
    const newest = candidates.sort((a, b) => b.stored.activeFrom.localeCompare(a.stored.activeFrom) || b.kid.localeCompare(a.kid))[0];
    if (newest === undefined) throw new Error('no signing key is active; run `understudy keys list`');
    return newest;
  }

  /** A key that may verify a JWT now (signing or still published), re-reading the table once for an unknown kid. */
  async verificationKey(kid: string): Promise<LoadedSigningKey | undefined> {
    await this.#reloadIfStale();
    let key = this.#keys.find((candidate) => candidate.kid === kid);
    if (key === undefined) {
      await this.reload();
      key = this.#keys.find((candidate) => candidate.kid === kid);
    }
    return key !== undefined && stateAt(key.stored, this.#dependencies.clock.now()) !== 'retired' ? key : undefined;
  }

  /** The public JWKS: every key that signs, will sign, or signed a JWT that may still be valid. */
  async publicJwks(): Promise<JWK[]> {
    await this.#reloadIfStale();
    const now = this.#dependencies.clock.now();
    return this.#keys.filter((key) => stateAt(key.stored, now) !== 'retired').map((key) => ({ ...key.publicJwk }));
  }

  /** Every key with its state, for `understudy keys list`. */
  async describeKeys(): Promise<{ kid: string; state: KeyState; createdAt: string; activeFrom: string; activeUntil: string | null; publishedUntil: string | null }[]> {
    await this.reload();
    const now = this.#dependencies.clock.now();
    return this.#keys.map(({ stored }) => ({
      kid: stored.kid,
      state: stateAt(stored, now),
      createdAt: stored.createdAt,
      activeFrom: stored.activeFrom,
      activeUntil: stored.activeUntil,
      publishedUntil: stored.publishedUntil,
    }));
  }

  async #reloadIfStale(): Promise<void> {
    if (this.#dependencies.clock.now().getTime() - this.#loadedAt >= RELOAD_INTERVAL_MILLISECONDS) await this.reload();
  }

  async #newKey(now: Date, activeFrom: Date = now): Promise<StoredSigningKey> {
    const kid = this.#dependencies.ids.next('jwk');
    const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig', key_ops: ['verify'] };
    const privateJwk = JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'RS256' });
    return {
      kid,
      publicJwk: JSON.stringify(publicJwk),
      sealedPrivateJwk: encryptPrivateKey(privateJwk, { masterKey: this.#dependencies.masterKey, kid, random: this.#dependencies.random }),
      createdAt: toTimestamp(now),
      activeFrom: toTimestamp(activeFrom),
      activeUntil: null,
      publishedUntil: null,
    };
  }

  async #load(stored: StoredSigningKey): Promise<LoadedSigningKey> {
    let privateJwkText: string;
    try {
      privateJwkText = decryptPrivateKey(stored.sealedPrivateJwk, { masterKey: this.#dependencies.masterKey, kid: stored.kid });
    } catch {
      // AES-GCM refuses the wrong key with a bare "unable to authenticate data"; say what is wrong instead.
      throw new MasterKeyError(
        `the master key does not match the one that encrypted signing key ${stored.kid}: set UNDERSTUDY_MASTER_KEY (or, on SQLite, master.key in the data directory) to the key this database was created with`,
      );
    }
    const privateJwk = JSON.parse(privateJwkText) as JWK;
    const privateKey = (await importJWK(privateJwk, 'RS256')) as CryptoKey;
    const publicJwk = JSON.parse(stored.publicJwk) as JWK;
    const publicKey = (await importJWK(publicJwk, 'RS256')) as CryptoKey;
    return { kid: stored.kid, publicJwk, publicKey, privateKey, stored };
  }
}

export function stateAt(key: StoredSigningKey, now: Date): KeyState {
  const at = toTimestamp(now);
  if (key.publishedUntil !== null && at >= key.publishedUntil) return 'retired';
  if (key.activeUntil !== null && at >= key.activeUntil) return 'published';
  return at >= key.activeFrom ? 'signing' : 'next';
}
