import { timingSafeEqual } from 'node:crypto';
import { type MigratedHash, type MigratedHashConfig, migratedHashError } from './migrated-hash-types.js';

/**
 * One family of migrated hashes (bcrypt, salted digests, argon2, scrypt, pbkdf2, phpass). `check`
 * runs once, when passwords.migrate brings the hash, and enforces the cost caps; `verify` runs at
 * every sign-in until the hash is replaced, and may throw on a malformed stored value (the caller
 * turns any throw into "no match").
 */
export interface MigratedHashFamily {
  /** The hash as it will be stored, or the Stytch `invalid_*` error for its form or configuration. */
  check(hash: string, config: MigratedHashConfig | null): MigratedHash;
  verify(hash: string, config: MigratedHashConfig | null, password: string): Promise<boolean>;
}

/**
 * Key (derived hash) lengths accepted: at least 8 bytes, so a guessed password cannot match a short
 * key by chance; at most 512, far above any real system's.
 */
export const MIN_KEY_BYTES = 8;
export const MAX_KEY_BYTES = 512;
/** Salts above this are no real system's and only cost memory and hashing time. */
export const MAX_SALT_BYTES = 1024;

const HEX = /^[0-9a-fA-F]*$/;
/** The standard base64 alphabet, with or without padding, as most systems write hashes and salts. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Bytes of an even-length hex string (either case), or undefined. */
export function decodeHex(text: string): Buffer | undefined {
  if (text.length % 2 !== 0 || !HEX.test(text)) return undefined;
  return Buffer.from(text, 'hex');
}

/** Bytes of a standard base64 string, padded or not, or undefined when it is not base64. */
export function decodeBase64(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  const unpadded = text.replace(/=+$/, '');
  // One leftover character encodes no whole byte; padding must complete the last quantum.
  if (unpadded.length % 4 === 1) return undefined;
  if (unpadded.length !== text.length && text.length % 4 !== 0) return undefined;
  return Buffer.from(unpadded, 'base64');
}

/** Constant-time equality; lengths are not secret (they are in the stored hash's form). */
export function sameBytes(actual: Uint8Array, expected: Uint8Array): boolean {
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

/** The configuration of one kind, unwrapped: `ConfigOf<'scrypt'>` is scrypt_config. */
export type ConfigOf<Type extends MigratedHashConfig['type']> = ConfigByType[Type];
type ConfigByType = { [Config in MigratedHashConfig as Config['type']]: Config['config'] };

/**
 * The configuration a family takes, unwrapped; null when none was given. A configuration of
 * another kind (say a scrypt_config for a bcrypt hash) is refused rather than ignored, so a
 * migration script's mistake shows at once instead of as members who cannot sign in.
 */
export function configOfType<Type extends MigratedHashConfig['type']>(config: MigratedHashConfig | null, type: Type, hashType: string): ConfigByType[Type] | null {
  if (config === null) return null;
  if (config.type !== type) throw wrongConfig(config, hashType);
  return config.config as ConfigByType[Type];
}

/** For self-describing hashes (bcrypt, phpass), which take no configuration at all. */
export function requireNoConfig(config: MigratedHashConfig | null, hashType: string): void {
  if (config !== null) throw wrongConfig(config, hashType);
}

/** The request fields each kind of configuration comes from, for the error message. */
const CONFIG_FIELDS: Record<MigratedHashConfig['type'], string> = {
  salted_digest: 'md_5_config, sha_1_config or sha_512_config',
  argon_2: 'argon_2_config',
  scrypt: 'scrypt_config',
  pbkdf_2: 'pbkdf_2_config',
};

function wrongConfig(config: MigratedHashConfig, hashType: string): Error {
  return migratedHashError('invalid_hash_config', `${CONFIG_FIELDS[config.type]} does not apply to hash_type ${hashType}.`);
}
