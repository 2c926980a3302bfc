import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import type { Argon2idParameters, HashingAdmission, PasswordCheck, PasswordHashing } from '../domain/passwords/password-hashing.js';
import type { PasswordHash, PasswordHashConfig, PasswordHashType } from '../domain/passwords/stored-password.js';
import { passwordError } from '../domain/passwords/errors.js';
import { rateLimitError } from '../domain/rate-limits/errors.js';
import { MigratedHashError } from '../crypto/passwords/migrated-hash-types.js';
import { checkMigratedHash, verifyMigratedHash } from '../crypto/passwords/migrated-hashes.js';

/** @node-rs/argon2's algorithm number for argon2id. */
const ARGON2ID = 2;

/**
 * Members' password hashing, bounded: at most `concurrency` hashes run at once (each on libuv's
 * thread pool, never on the event loop, and each holding argon2's memory), at most `queueLength`
 * wait for a slot, and any more are refused at once with 429 and a Retry-After estimated from how
 * long hashes have been taking. Memory is therefore capped at about memory × concurrency, and a
 * flood of password sign-ins delays other password sign-ins, never the rest of the server.
 */
export class PasswordHashingPool implements PasswordHashing {
  readonly #parameters: Argon2idParameters;
  readonly #concurrency: number;
  readonly #queueLength: number;
  readonly #waiting: Array<() => void> = [];
  #running = 0;
  /**
   * Places taken, out of concurrency + queueLength: one per open admission (a sign-in, whatever it
   * is doing) and one per hash under way or waiting without one.
   */
  #places = 0;
  /** Moving average of one hash's duration in milliseconds, for Retry-After. */
  #averageMs = 50;
  /** A hash of a fixed password with the current parameters: what verifyNothing verifies against. */
  #decoy: Promise<string> | undefined;

  constructor(options: { parameters: Argon2idParameters; concurrency?: number | undefined; queueLength: number }) {
    this.#parameters = options.parameters;
    this.#concurrency = options.concurrency ?? availableParallelism();
    this.#queueLength = options.queueLength;
  }

  /** Slots busy and hashes waiting, for metrics and tests. */
  get load(): { readonly running: number; readonly waiting: number } {
    return { running: this.#running, waiting: this.#waiting.length };
  }

  admit(): HashingAdmission {
    this.#takePlace();
    let open = true;
    return {
      release: () => {
        if (!open) return;
        open = false;
        this.#places -= 1;
      },
    };
  }

  async hash(password: string, admission?: HashingAdmission): Promise<PasswordHash> {
    const encoded = await this.#run(() => hash(password, this.#argon2Options()), admission);
    return { hashType: 'argon_2id', hash: encoded, config: null };
  }

  async verify(stored: PasswordHash, password: string, admission?: HashingAdmission): Promise<PasswordCheck> {
    const matches = await this.#run(() => verifyMigratedHash(stored, password), admission);
    return { matches, needsRehash: matches && !this.#isCurrent(stored) };
  }

  async verifyNothing(password: string, admission?: HashingAdmission): Promise<void> {
    // The decoy's password need not be secret: what it verifies to is thrown away (argon2 salts it
    // at random anyway). A failed decoy is forgotten, not cached, or one failure would fail every call.
    this.#decoy ??= hash('understudy decoy password', this.#argon2Options()).catch((error: unknown) => {
      this.#decoy = undefined;
      throw error;
    });
    const decoy = await this.#decoy;
    await this.#run(() => verify(decoy, password).catch(() => false), admission);
  }

  checkMigratedHash(hashType: PasswordHashType, hashText: string, config: PasswordHashConfig | null): PasswordHash {
    try {
      return checkMigratedHash(hashType, hashText, config);
    } catch (error) {
      // The checks live in src/crypto, which knows no domain errors: the same code, as the domain's.
      if (error instanceof MigratedHashError) throw passwordError(error.code, error.detail);
      throw error;
    }
  }

  /** Our own argon2id PHC string with exactly the current parameters. */
  #isCurrent(stored: PasswordHash): boolean {
    if (stored.hashType !== 'argon_2id' || stored.config !== null) return false;
    const { memoryKib, iterations, parallelism } = this.#parameters;
    return stored.hash.startsWith(`$argon2id$v=19$m=${memoryKib},t=${iterations},p=${parallelism}$`);
  }

  #argon2Options(): { algorithm: 2; memoryCost: number; timeCost: number; parallelism: number } {
    const { memoryKib, iterations, parallelism } = this.#parameters;
    return { algorithm: ARGON2ID, memoryCost: memoryKib, timeCost: iterations, parallelism };
  }

  /** 429 with how long the queue ahead would take to drain. */
  #refusal(): Error {
    const seconds = Math.ceil(((this.#waiting.length + this.#running) * this.#averageMs) / this.#concurrency / 1000);
    return rateLimitError(Math.max(1, seconds));
  }

  /** One place, or 429 when all concurrency + queueLength are taken. */
  #takePlace(): void {
    if (this.#places >= this.#concurrency + this.#queueLength) throw this.#refusal();
    this.#places += 1;
  }

  /** A hash on a slot, waiting for one if need be; one that comes with an admission already holds its place. */
  async #run<T>(work: () => Promise<T>, admission?: HashingAdmission): Promise<T> {
    if (admission === undefined) this.#takePlace();
    if (this.#running >= this.#concurrency) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running += 1;
    }
    const started = performance.now();
    try {
      return await work();
    } finally {
      if (admission === undefined) this.#places -= 1;
      this.#averageMs = this.#averageMs * 0.9 + (performance.now() - started) * 0.1;
      const next = this.#waiting.shift();
      // The slot passes straight to the next waiter; otherwise it is freed.
      if (next !== undefined) next();
      else this.#running -= 1;
    }
  }
}
