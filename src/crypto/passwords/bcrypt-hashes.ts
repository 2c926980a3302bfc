import { verify } from '@node-rs/bcrypt';
import { type MigratedHashFamily, requireNoConfig } from './migrated-hash-family.js';
import { migratedHashError } from './migrated-hash-types.js';

/** `$2a$`, `$2b$` or `$2y$` (the same algorithm under three names), a two-digit cost, 22 salt and 31 hash characters. */
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/**
 * @node-rs/bcrypt verifies on libuv's thread pool, off the event loop, but each cost step doubles
 * the time a hashing slot is held, and cost 14 already takes over a second here. Real systems use
 * 10–12; higher is refused, so one migrated member cannot tie up a slot for minutes.
 */
const MIN_COST = 4;
const MAX_COST = 14;

export const bcryptHashes: MigratedHashFamily = {
  check(hash, config) {
    requireNoConfig(config, 'bcrypt');
    const cost = BCRYPT.exec(hash)?.[1];
    if (cost === undefined) throw migratedHashError('invalid_bcrypt_hash');
    if (Number(cost) < MIN_COST || Number(cost) > MAX_COST) {
      throw migratedHashError('invalid_bcrypt_hash', `The bcrypt cost must be between ${MIN_COST} and ${MAX_COST}.`);
    }
    return { hashType: 'bcrypt', hash, config: null };
  },
  async verify(hash, _config, password) {
    if (!BCRYPT.test(hash)) return false;
    // The library compares in constant time; a hash it cannot parse is a mismatch, not an error.
    return verify(password, hash).catch(() => false);
  },
};
