import { verify } from '@node-rs/argon2';
import type { PasswordHash, PasswordHashConfig, PasswordHashType } from '../../domain/passwords/stored-password.js';
import { passwordError } from '../../domain/passwords/errors.js';

/**
 * Hashes migrated from other systems (passwords.migrate): checked when they arrive, verified with
 * their own algorithm until the member's first successful sign-in replaces them with argon2id.
 * Only argon2 PHC strings so far; the other types follow.
 */
export function checkMigratedHash(hashType: PasswordHashType, hash: string, config: PasswordHashConfig | null): PasswordHash {
  if (hashType === 'argon_2id' || hashType === 'argon_2i') {
    if (config === null && hash.startsWith(hashType === 'argon_2id' ? '$argon2id$' : '$argon2i$')) return { hashType, hash, config: null };
    throw passwordError('invalid_argon_2_hash');
  }
  throw passwordError('invalid_hash_type');
}

/** Whether `password` matches a stored hash of any supported type; false (never a throw) for a malformed one. */
export async function verifyMigratedHash(stored: PasswordHash, password: string): Promise<boolean> {
  if ((stored.hashType === 'argon_2id' || stored.hashType === 'argon_2i') && stored.config === null) {
    return verify(stored.hash, password).catch(() => false);
  }
  return false;
}
