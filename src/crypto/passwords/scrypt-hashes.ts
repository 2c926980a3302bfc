import { scrypt } from 'node:crypto';
import {
  type ConfigOf,
  configOfType,
  decodeBase64,
  isIntegerIn,
  MAX_KEY_BYTES,
  MAX_SALT_BYTES,
  MIN_KEY_BYTES,
  type MigratedHashFamily,
  sameBytes,
} from './migrated-hash-family.js';
import { migratedHashError } from './migrated-hash-types.js';

/**
 * scrypt, in either of two forms:
 * - PHC string `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>` (salt and hash in PHC base64: no
 *   padding, though padded is read too, as is passlib's `.` for `+`); no scrypt_config.
 * - the derived key in base64, with scrypt_config {salt (base64), n_parameter, r_parameter,
 *   p_parameter, key_length}.
 */
const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,7}),p=(\d{1,2})\$([A-Za-z0-9+/.]+={0,2})\$([A-Za-z0-9+/.]+={0,2})$/;

/**
 * Caps, so that one migrate call cannot make each of that member's sign-ins allocate or compute
 * without bound: N a power of two up to 2^18 (Stytch's own limit), memory 128·N·r at most
 * 256 MiB, p at most 16, and all p passes together at most 1 GiB of memory traffic.
 */
const MAX_N = 262_144;
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;
const MAX_P = 16;
const MAX_WORK_BYTES = 1024 * 1024 * 1024;

interface ScryptHash {
  readonly n: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly key: Buffer;
}

export const scryptHashes: MigratedHashFamily = {
  check(hash, config) {
    const parsed = parse(hash, configOfType(config, 'scrypt', 'scrypt'));
    const problem = costProblem(parsed);
    if (problem !== undefined) {
      // Inside a PHC string the parameters are part of the hash; otherwise they are scrypt_config's.
      throw config === null ? migratedHashError('invalid_base64_scrypt_hash', problem) : migratedHashError('invalid_hash_config', problem);
    }
    return { hashType: 'scrypt', hash, config };
  },
  async verify(hash, config, password) {
    const { n, r, p, salt, key } = parse(hash, configOfType(config, 'scrypt', 'scrypt'));
    // OpenSSL refuses unless maxmem covers its V array (128·r·(N+2)) and B array (128·r·p).
    const maxmem = 128 * r * (n + 2 + p) + 64 * 1024;
    const derived = await new Promise<Buffer>((resolve, reject) => {
      scrypt(password, salt, key.length, { N: n, r, p, maxmem }, (error, result) => (error ? reject(error) : resolve(result)));
    });
    return sameBytes(derived, key);
  },
};

/** The hash's parameters, salt and key, or the error for its form. */
function parse(hash: string, config: ConfigOf<'scrypt'> | null): ScryptHash {
  if (hash.startsWith('$scrypt$')) {
    if (config !== null) throw migratedHashError('invalid_hash_config', 'A PHC scrypt hash carries its own parameters: send it without scrypt_config.');
    return parsePhc(hash);
  }
  if (config === null) throw migratedHashError('invalid_base64_scrypt_hash');
  const key = decodeBase64(hash);
  if (key === undefined) throw migratedHashError('invalid_base64_scrypt_hash');
  const salt = typeof config.salt === 'string' ? decodeBase64(config.salt) : undefined;
  if (salt === undefined || salt.length === 0) throw migratedHashError('invalid_hash_config', 'scrypt_config.salt must be non-empty base64.');
  if (!isIntegerIn(config.keyLength, MIN_KEY_BYTES, MAX_KEY_BYTES)) {
    throw migratedHashError('invalid_hash_config', `scrypt_config.key_length must be between ${MIN_KEY_BYTES} and ${MAX_KEY_BYTES}.`);
  }
  if (key.length !== config.keyLength) throw migratedHashError('invalid_base64_scrypt_hash', 'The scrypt hash is not key_length bytes long.');
  return { n: config.nParameter, r: config.rParameter, p: config.pParameter, salt, key };
}

function parsePhc(hash: string): ScryptHash {
  const [, log2N, r, p, saltText, keyText] = PHC.exec(hash) ?? [];
  const salt = saltText === undefined ? undefined : decodeBase64(saltText.replaceAll('.', '+'));
  const key = keyText === undefined ? undefined : decodeBase64(keyText.replaceAll('.', '+'));
  if (salt === undefined || key === undefined || log2N === undefined) {
    throw migratedHashError('invalid_base64_scrypt_hash', 'The scrypt hash is neither a $scrypt$ln=…,r=…,p=…$salt$hash string nor base64 with a scrypt_config.');
  }
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) {
    throw migratedHashError('invalid_base64_scrypt_hash', `The scrypt hash must be ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes.`);
  }
  return { n: 2 ** Number(log2N), r: Number(r), p: Number(p), salt, key };
}

/** Why these parameters are refused, or undefined when they are within the caps. */
function costProblem({ n, r, p, salt }: ScryptHash): string | undefined {
  if (!isIntegerIn(n, 2, MAX_N) || (n & (n - 1)) !== 0) return `scrypt's N must be a power of two between 2 and ${MAX_N}.`;
  if (!isIntegerIn(p, 1, MAX_P)) return `scrypt's p must be between 1 and ${MAX_P}.`;
  if (!isIntegerIn(r, 1, MAX_MEMORY_BYTES) || 128 * n * r > MAX_MEMORY_BYTES) return "scrypt's memory (128·N·r bytes) must be at most 256 MiB.";
  if (128 * n * r * p > MAX_WORK_BYTES) return "scrypt's work (128·N·r·p bytes) must be at most 1 GiB.";
  if (salt.length > MAX_SALT_BYTES) return `scrypt's salt must be at most ${MAX_SALT_BYTES} bytes.`;
  return undefined;
}
