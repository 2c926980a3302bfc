import { createHash } from 'node:crypto';
import { configOfType, decodeHex, MAX_SALT_BYTES, type MigratedHashFamily, sameBytes } from './migrated-hash-family.js';
import { type MigratedHashConfig, migratedHashError } from './migrated-hash-types.js';

/**
 * md_5, sha_1 and sha_512: the hex digest of prepend_salt + password + append_salt (UTF-8), salts
 * optional. Cheap to compute, so verified in place; hex is compared as bytes, so either case
 * matches, and it is stored in lower case.
 */
function saltedDigestFamily(hashType: 'md_5' | 'sha_1' | 'sha_512', algorithm: string, digestBytes: number): MigratedHashFamily {
  const invalidHash = () => migratedHashError(`invalid_${hashType}_hash` as const);
  return {
    check(hash, config) {
      const salts = configOfType(config, 'salted_digest', hashType);
      if (decodeHex(hash)?.length !== digestBytes) throw invalidHash();
      if (salts !== null) {
        for (const salt of [salts.prependSalt, salts.appendSalt]) {
          if (typeof salt !== 'string' || Buffer.byteLength(salt) > MAX_SALT_BYTES) {
            throw migratedHashError('invalid_hash_config', `prepend_salt and append_salt must be strings of at most ${MAX_SALT_BYTES} bytes.`);
          }
        }
      }
      return { hashType, hash: hash.toLowerCase(), config };
    },
    async verify(hash, config, password) {
      const expected = decodeHex(hash);
      if (expected?.length !== digestBytes) return false;
      const salts = saltsOf(config, hashType);
      const actual = createHash(algorithm).update(`${salts.prependSalt}${password}${salts.appendSalt}`, 'utf8').digest();
      return sameBytes(actual, expected);
    },
  };
}

function saltsOf(config: MigratedHashConfig | null, hashType: string): { prependSalt: string; appendSalt: string } {
  return configOfType(config, 'salted_digest', hashType) ?? { prependSalt: '', appendSalt: '' };
}

export const md5Hashes = saltedDigestFamily('md_5', 'md5', 16);
export const sha1Hashes = saltedDigestFamily('sha_1', 'sha1', 20);
export const sha512Hashes = saltedDigestFamily('sha_512', 'sha512', 64);
