/**
 * What passwords.migrate brings, restated here because src/crypto is a leaf and imports nothing
 * from src/domain: these have exactly the shape of the domain's PasswordHash, PasswordHashType and
 * PasswordHashConfig (stored-password.ts). The hashing pool hands one to the other, so the two
 * cannot drift apart without a compile error there.
 */
export const MIGRATED_HASH_TYPES = ['bcrypt', 'md_5', 'argon_2i', 'argon_2id', 'sha_1', 'sha_512', 'scrypt', 'phpass', 'pbkdf_2'] as const;
export type MigratedHashType = (typeof MIGRATED_HASH_TYPES)[number];

export type MigratedHashConfig =
  | { readonly type: 'salted_digest'; readonly config: { readonly prependSalt: string; readonly appendSalt: string } }
  | {
      readonly type: 'argon_2';
      readonly config: { readonly salt: string; readonly iterationAmount: number; readonly memory: number; readonly threads: number; readonly keyLength: number };
    }
  | {
      readonly type: 'scrypt';
      readonly config: { readonly salt: string; readonly nParameter: number; readonly rParameter: number; readonly pParameter: number; readonly keyLength: number };
    }
  | {
      readonly type: 'pbkdf_2';
      readonly config: { readonly salt: string; readonly iterationAmount: number; readonly keyLength: number; readonly algorithm: 'sha256' | 'sha512' };
    };

export interface MigratedHash {
  readonly hashType: MigratedHashType;
  readonly hash: string;
  readonly config: MigratedHashConfig | null;
}

/** The Stytch error types a migrated hash can be refused with (the passwords error catalogue has each). */
export type MigratedHashErrorCode =
  | 'invalid_hash_type'
  | 'invalid_hash'
  | 'invalid_hash_config'
  | 'invalid_bcrypt_hash'
  | 'invalid_md_5_hash'
  | 'invalid_sha_1_hash'
  | 'invalid_sha_512_hash'
  | 'invalid_pbkdf_2_hash'
  | 'invalid_base64_scrypt_hash'
  | 'invalid_phpass_hash_format'
  | 'invalid_phpass_hash_prefix'
  | 'invalid_argon_2_hash'
  | 'invalid_argon_2_config'
  | 'argon_2_key_length_mismatch';

/**
 * A migrated hash refused, with the Stytch error type and, where the catalogue's message is too
 * general, what exactly is wrong. The hashing pool turns it into the domain's password error.
 */
export class MigratedHashError extends Error {
  readonly code: MigratedHashErrorCode;
  readonly detail: string | undefined;

  constructor(code: MigratedHashErrorCode, detail?: string) {
    super(detail ?? code);
    this.name = 'MigratedHashError';
    this.code = code;
    this.detail = detail;
  }
}

export function migratedHashError(code: MigratedHashErrorCode, detail?: string): MigratedHashError {
  return new MigratedHashError(code, detail);
}
