import type { PasswordHash, PasswordHashConfig, PasswordHashType } from './stored-password.js';

/** argon2id's cost, from configuration: memory in KiB, iterations, lanes. */
export interface Argon2idParameters {
  readonly memoryKib: number;
  readonly iterations: number;
  readonly parallelism: number;
}

/** OWASP's minimum for argon2id (m=19 MiB, t=2, p=1): the defaults. */
export const DEFAULT_ARGON2ID_PARAMETERS: Argon2idParameters = { memoryKib: 19_456, iterations: 2, parallelism: 1 };

/** What checking a password against a stored hash found. */
export interface PasswordCheck {
  readonly matches: boolean;
  /** The hash is not argon2id with the current parameters: replace it after a successful sign-in. */
  readonly needsRehash: boolean;
}

/**
 * Hashing and verifying members' passwords (src/crypto/passwords implements it). Every hash and
 * verification runs off the event loop, at most a configured number at once; past that they wait
 * in a bounded queue, and past the queue they are refused at once with a RateLimitedError
 * (`too_many_requests`, Retry-After), so hashing can never starve the server's other work nor
 * hold more than (argon2 memory × concurrency) of memory.
 */
export interface PasswordHashing {
  /**
   * A place in the pool for one sign-in, held until released: refused at once (RateLimitedError,
   * with Retry-After) when the pool is full. A sign-in takes it before it counts its attempt toward
   * the user lock, and its hashes then never get that refusal: a flood that fills the pool never
   * counts an attempt it then turns away, so it never locks out the members who retry.
   */
  admit(): HashingAdmission;
  /** A new argon2id hash (PHC string) with the current parameters. */
  hash(password: string, admission?: HashingAdmission): Promise<PasswordHash>;
  /** Checks `password` against a stored hash of any supported type; a malformed hash never matches. */
  verify(stored: PasswordHash, password: string, admission?: HashingAdmission): Promise<PasswordCheck>;
  /**
   * Spends the time of one verification and matches nothing: for an address with no password, so a
   * caller cannot tell it from a wrong password by the time it takes.
   */
  verifyNothing(password: string, admission?: HashingAdmission): Promise<void>;
  /**
   * Checks a hash to be migrated (its form for `hashType`, and the configuration that type needs)
   * and returns it as it will be stored; throws the Stytch `invalid_*` error otherwise. Cheap: no
   * hashing.
   */
  checkMigratedHash(hashType: PasswordHashType, hash: string, config: PasswordHashConfig | null): PasswordHash;
}

/** A sign-in's place in the hashing pool (PasswordHashing.admit); `release` is idempotent. */
export interface HashingAdmission {
  release(): void;
}
