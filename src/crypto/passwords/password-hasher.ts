import { hash, verify } from '@node-rs/argon2';

/** Password hashing behind an interface, so tests and later tuning change one place. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** True when `password` matches `encoded`; false (never a throw) for a malformed hash. */
  verify(encoded: string, password: string): Promise<boolean>;
}

/**
 * argon2id with the OWASP-recommended minimum (19 MiB, 2 iterations, 1 lane): slow enough to
 * blunt offline guessing, fast enough for an interactive sign-in on a small machine.
 */
export const argon2idHasher: PasswordHasher = {
  hash(password: string): Promise<string> {
    return hash(password, { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
  },
  async verify(encoded: string, password: string): Promise<boolean> {
    try {
      return await verify(encoded, password);
    } catch {
      return false;
    }
  },
};
