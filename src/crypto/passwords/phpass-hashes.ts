import { createHash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type MigratedHashFamily, requireNoConfig, sameBytes } from './migrated-hash-family.js';
import { migratedHashError } from './migrated-hash-types.js';

/**
 * phpass "portable" hashes (WordPress `$P$`, phpBB `$H$`): `$P$`, one character giving log2 of the
 * MD5 rounds, 8 salt characters, then the 16-byte digest in phpass's own base64 (22 characters):
 * 34 characters in all. The digest is md5(salt + password), then rounds × md5(digest + password).
 */
const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const PHPASS = /^\$[PH]\$[./0-9A-Za-z]{31}$/;
const LENGTH = 34;

/**
 * phpass allows 2^7 to 2^30 rounds; the MD5 rounds run on the event loop (a few per microsecond),
 * so more than 2^16 (WordPress uses 2^13, phpBB 2^11) is refused rather than costing the server
 * seconds per sign-in.
 */
const MIN_LOG2_ROUNDS = 7;
const MAX_LOG2_ROUNDS = 16;
/** Rounds between yields to the event loop: a few milliseconds of work. */
const ROUNDS_PER_TURN = 2048;

export const phpassHashes: MigratedHashFamily = {
  check(hash, config) {
    requireNoConfig(config, 'phpass');
    if (!hash.startsWith('$P$') && !hash.startsWith('$H$')) throw migratedHashError('invalid_phpass_hash_prefix');
    if (hash.length !== LENGTH || !PHPASS.test(hash)) throw migratedHashError('invalid_phpass_hash_format');
    const log2Rounds = ITOA64.indexOf(hash.charAt(3));
    if (log2Rounds < MIN_LOG2_ROUNDS || log2Rounds > MAX_LOG2_ROUNDS) {
      throw migratedHashError('invalid_phpass_hash_format', `The phpass rounds must be between 2^${MIN_LOG2_ROUNDS} and 2^${MAX_LOG2_ROUNDS}.`);
    }
    return { hashType: 'phpass', hash, config: null };
  },
  async verify(hash, _config, password) {
    if (!PHPASS.test(hash)) return false;
    const log2Rounds = ITOA64.indexOf(hash.charAt(3));
    if (log2Rounds < MIN_LOG2_ROUNDS || log2Rounds > MAX_LOG2_ROUNDS) return false;
    const digest = await portableDigest(Buffer.from(password, 'utf8'), Buffer.from(hash.slice(4, 12), 'latin1'), 2 ** log2Rounds);
    return sameBytes(Buffer.from(encode64(digest), 'latin1'), Buffer.from(hash.slice(12), 'latin1'));
  },
};

async function portableDigest(password: Buffer, salt: Buffer, rounds: number): Promise<Buffer> {
  let digest = md5(salt, password);
  let done = 0;
  while (done < rounds) {
    const until = Math.min(rounds, done + ROUNDS_PER_TURN);
    for (; done < until; done += 1) digest = md5(digest, password);
    if (done < rounds) await nextTurn();
  }
  return digest;
}

function md5(first: Buffer, second: Buffer): Buffer {
  return createHash('md5').update(first).update(second).digest();
}

/** phpass's base64: its own alphabet, little-endian 6-bit groups, no padding (16 bytes → 22 characters). */
function encode64(input: Buffer): string {
  let output = '';
  for (let i = 0; i < input.length; i += 3) {
    const value = (input[i] ?? 0) | ((input[i + 1] ?? 0) << 8) | ((input[i + 2] ?? 0) << 16);
    const characters = Math.min(4, Math.ceil(((input.length - i) * 8) / 6));
    for (let c = 0; c < characters; c += 1) output += ITOA64.charAt((value >> (6 * c)) & 0x3f);
  }
  return output;
}
