import { pbkdf2 } from 'node:crypto';
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
 * Iterations allowed: twice OWASP's current advice for PBKDF2-HMAC-SHA256 (600,000) and above
 * Django's default (1,000,000), yet bounded so one migrate call cannot make each of that member's
 * sign-ins take more than about a second of a core.
 */
const MAX_ITERATIONS = 2_000_000;

/** pbkdf_2: the derived key in base64, with pbkdf_2_config {salt (base64), iteration_amount, key_length, algorithm}. */
export const pbkdf2Hashes: MigratedHashFamily = {
  check(hash, config) {
    const pbkdf2Config = configOfType(config, 'pbkdf_2', 'pbkdf_2');
    const { iterations, algorithm } = parse(hash, pbkdf2Config);
    if (iterations > MAX_ITERATIONS) throw migratedHashError('invalid_hash_config', `pbkdf_2_config.iteration_amount must be at most ${MAX_ITERATIONS}.`);
    // Stored with the algorithm spelled out, so the default applied here can never change later.
    return { hashType: 'pbkdf_2', hash, config: pbkdf2Config === null ? null : { type: 'pbkdf_2', config: { ...pbkdf2Config, algorithm } } };
  },
  async verify(hash, config, password) {
    const { salt, iterations, key, algorithm } = parse(hash, configOfType(config, 'pbkdf_2', 'pbkdf_2'));
    const derived = await new Promise<Buffer>((resolve, reject) => {
      pbkdf2(password, salt, iterations, key.length, algorithm, (error, result) => (error ? reject(error) : resolve(result)));
    });
    return sameBytes(derived, key);
  },
};

function parse(hash: string, config: ConfigOf<'pbkdf_2'> | null): { salt: Buffer; iterations: number; key: Buffer; algorithm: 'sha256' | 'sha512' } {
  if (config === null) throw migratedHashError('invalid_pbkdf_2_hash');
  const key = decodeBase64(hash);
  if (key === undefined) throw migratedHashError('invalid_pbkdf_2_hash');
  const salt = typeof config.salt === 'string' ? decodeBase64(config.salt) : undefined;
  if (salt === undefined || salt.length === 0 || salt.length > MAX_SALT_BYTES) {
    throw migratedHashError('invalid_hash_config', `pbkdf_2_config.salt must be base64 of 1 to ${MAX_SALT_BYTES} bytes.`);
  }
  const algorithm = algorithmOf(config.algorithm);
  if (!isIntegerIn(config.iterationAmount, 1, Number.MAX_SAFE_INTEGER)) {
    throw migratedHashError('invalid_hash_config', 'pbkdf_2_config.iteration_amount must be a positive integer.');
  }
  if (!isIntegerIn(config.keyLength, MIN_KEY_BYTES, MAX_KEY_BYTES)) {
    throw migratedHashError('invalid_hash_config', `pbkdf_2_config.key_length must be between ${MIN_KEY_BYTES} and ${MAX_KEY_BYTES}.`);
  }
  if (key.length !== config.keyLength) throw migratedHashError('invalid_pbkdf_2_hash', 'The pbkdf_2 hash is not key_length bytes long.');
  return { salt, iterations: config.iterationAmount, key, algorithm };
}

/** sha256 when the algorithm is left empty (Stytch's default), else sha256 or sha512 exactly. */
function algorithmOf(given: string | undefined): 'sha256' | 'sha512' {
  if (given === undefined || given === '') return 'sha256';
  if (given === 'sha256' || given === 'sha512') return given;
  throw migratedHashError('invalid_hash_config', 'pbkdf_2_config.algorithm must be sha256 or sha512.');
}
