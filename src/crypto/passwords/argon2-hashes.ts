import { hashRaw, parseOptions, verify } from '@node-rs/argon2';
import {
  type ConfigOf,
  configOfType,
  decodeHex,
  isIntegerIn,
  MAX_KEY_BYTES,
  MAX_SALT_BYTES,
  MIN_KEY_BYTES,
  type MigratedHashFamily,
  sameBytes,
} from './migrated-hash-family.js';
import { migratedHashError } from './migrated-hash-types.js';

/** @node-rs/argon2's algorithm numbers. */
const ALGORITHMS = { argon_2i: 1, argon_2id: 2 } as const;
const PREFIXES = { argon_2i: '$argon2i$', argon_2id: '$argon2id$' } as const;

/**
 * Caps on a migrated hash's cost, so one migrate call cannot make each of that member's sign-ins
 * allocate or compute without bound: memory at most 256 MiB, at most 100 passes and 16 lanes, and
 * memory × passes at most 1 GiB (256 MiB × 4, 64 MiB × 16, … : every common profile but
 * libsodium's "sensitive" 1 GiB one). Our own argon2id hashes are configured separately and are
 * never checked against these.
 */
const MAX_MEMORY_KIB = 262_144;
const MAX_PASSES = 100;
const MAX_LANES = 16;
const MAX_WORK_KIB = 1_048_576;
/** argon2 itself needs a salt of at least 8 bytes. */
const MIN_SALT_BYTES = 8;

interface Cost {
  readonly memoryKib: number;
  readonly passes: number;
  readonly lanes: number;
}

/**
 * argon_2i and argon_2id, in either of two forms:
 * - a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), verified by @node-rs/argon2 (which
 *   compares in constant time);
 * - the raw hash in hex, with argon_2_config {salt (its UTF-8 bytes), iteration_amount, memory
 *   (KiB), threads, key_length}: recomputed with hashRaw and compared here.
 */
function argon2Family(hashType: 'argon_2i' | 'argon_2id'): MigratedHashFamily {
  return {
    check(hash, config) {
      const argon2Config = configOfType(config, 'argon_2', hashType);
      if (argon2Config === null) {
        checkPhc(hashType, hash);
        return { hashType, hash, config: null };
      }
      checkRaw(hash, argon2Config);
      return { hashType, hash: hash.toLowerCase(), config };
    },
    async verify(hash, config, password) {
      const argon2Config = configOfType(config, 'argon_2', hashType);
      if (argon2Config === null) return verify(hash, password);
      const expected = decodeHex(hash);
      if (expected === undefined) return false;
      const derived = await hashRaw(password, {
        algorithm: ALGORITHMS[hashType],
        salt: Buffer.from(argon2Config.salt, 'utf8'),
        timeCost: argon2Config.iterationAmount,
        memoryCost: argon2Config.memory,
        parallelism: argon2Config.threads,
        outputLen: argon2Config.keyLength,
      });
      return sameBytes(derived, expected);
    },
  };
}

function checkPhc(hashType: 'argon_2i' | 'argon_2id', hash: string): void {
  if (decodeHex(hash) !== undefined) throw migratedHashError('invalid_argon_2_config', 'A hex argon2 hash needs an argon_2_config.');
  if (!hash.startsWith(PREFIXES[hashType])) throw migratedHashError('invalid_argon_2_hash', `An ${hashType} PHC string starts with ${PREFIXES[hashType]}.`);
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(hash);
  } catch {
    throw migratedHashError('invalid_argon_2_hash');
  }
  const problem = costProblem({ memoryKib: options.memoryCost, passes: options.timeCost, lanes: options.parallelism });
  if (problem !== undefined) throw migratedHashError('invalid_argon_2_hash', problem);
  if (options.outputLen < MIN_KEY_BYTES || options.outputLen > MAX_KEY_BYTES) {
    throw migratedHashError('invalid_argon_2_hash', `The argon2 hash must be ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes.`);
  }
}

function checkRaw(hash: string, config: ConfigOf<'argon_2'>): void {
  const invalidConfig = (message: string) => migratedHashError('invalid_argon_2_config', message);
  const saltBytes = typeof config.salt === 'string' ? Buffer.byteLength(config.salt, 'utf8') : 0;
  if (saltBytes < MIN_SALT_BYTES || saltBytes > MAX_SALT_BYTES) throw invalidConfig(`argon_2_config.salt must be ${MIN_SALT_BYTES} to ${MAX_SALT_BYTES} bytes.`);
  if (!isIntegerIn(config.keyLength, MIN_KEY_BYTES, MAX_KEY_BYTES)) {
    throw invalidConfig(`argon_2_config.key_length must be between ${MIN_KEY_BYTES} and ${MAX_KEY_BYTES}.`);
  }
  const problem = costProblem({ memoryKib: config.memory, passes: config.iterationAmount, lanes: config.threads });
  if (problem !== undefined) throw invalidConfig(problem);
  const expected = decodeHex(hash);
  if (expected === undefined) throw migratedHashError('invalid_argon_2_hash', 'With argon_2_config, the argon2 hash must be hex.');
  if (expected.length !== config.keyLength) throw migratedHashError('argon_2_key_length_mismatch');
}

/** Why this cost is refused, or undefined when it is within the caps. */
function costProblem({ memoryKib, passes, lanes }: Cost): string | undefined {
  if (!isIntegerIn(lanes, 1, MAX_LANES)) return `argon2's parallelism (threads) must be between 1 and ${MAX_LANES}.`;
  if (!isIntegerIn(passes, 1, MAX_PASSES)) return `argon2's iterations must be between 1 and ${MAX_PASSES}.`;
  // argon2 needs at least 8 KiB per lane.
  if (!isIntegerIn(memoryKib, 8 * lanes, MAX_MEMORY_KIB)) return `argon2's memory must be between 8 KiB per thread and ${MAX_MEMORY_KIB} KiB.`;
  if (memoryKib * passes > MAX_WORK_KIB) return `argon2's memory × iterations must be at most ${MAX_WORK_KIB} KiB.`;
  return undefined;
}

export const argon2iHashes = argon2Family('argon_2i');
export const argon2idHashes = argon2Family('argon_2id');
