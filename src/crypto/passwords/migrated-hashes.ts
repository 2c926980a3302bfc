import { argon2iHashes, argon2idHashes } from './argon2-hashes.js';
import { bcryptHashes } from './bcrypt-hashes.js';
import type { MigratedHashFamily } from './migrated-hash-family.js';
import { pbkdf2Hashes } from './pbkdf2-hashes.js';
import { phpassHashes } from './phpass-hashes.js';
import { md5Hashes, sha1Hashes, sha512Hashes } from './salted-digest-hashes.js';
import { MIGRATED_HASH_TYPES, type MigratedHash, type MigratedHashConfig, type MigratedHashType, migratedHashError } from './migrated-hash-types.js';
import { scryptHashes } from './scrypt-hashes.js';

/**
 * Hashes migrated from other systems (passwords.migrate): checked when they arrive, then verified
 * with their own algorithm until the member's first successful sign-in replaces them with our
 * argon2id. Our own argon2id PHC strings go through here too.
 */
const FAMILIES: Readonly<Record<MigratedHashType, MigratedHashFamily>> = {
  bcrypt: bcryptHashes,
  md_5: md5Hashes,
  argon_2i: argon2iHashes,
  argon_2id: argon2idHashes,
  sha_1: sha1Hashes,
  sha_512: sha512Hashes,
  scrypt: scryptHashes,
  phpass: phpassHashes,
  pbkdf_2: pbkdf2Hashes,
};

function isHashType(value: unknown): value is MigratedHashType {
  return (MIGRATED_HASH_TYPES as readonly unknown[]).includes(value);
}

/**
 * The hash as it will be stored (hex in lower case), or the Stytch `invalid_*` error for its form,
 * its configuration, or a cost above our caps. Cheap: parses, never hashes.
 */
export function checkMigratedHash(hashType: MigratedHashType, hash: string, config: MigratedHashConfig | null): MigratedHash {
  if (!isHashType(hashType)) throw migratedHashError('invalid_hash_type');
  if (typeof hash !== 'string' || hash.length === 0) throw migratedHashError('invalid_hash');
  return FAMILIES[hashType].check(hash, config);
}

/**
 * Whether `password` matches a stored hash of any supported type: compared in constant time, the
 * costly work off the event loop or in short slices of it; false (never a throw) for a malformed
 * hash. The cost caps are not applied again here: they guard what migrate accepts, and our own
 * argon2id hashes may be configured above them.
 */
export async function verifyMigratedHash(stored: MigratedHash, password: string): Promise<boolean> {
  if (!isHashType(stored.hashType) || typeof stored.hash !== 'string' || typeof password !== 'string') return false;
  try {
    return await FAMILIES[stored.hashType].verify(stored.hash, stored.config, password);
  } catch {
    return false;
  }
}
