/**
 * The hash types `passwords.migrate` accepts, as Stytch names them. `argon_2id` is also the type of
 * every hash Understudy writes itself (PHC string, the current parameters).
 */
export const PASSWORD_HASH_TYPES = ['bcrypt', 'md_5', 'argon_2i', 'argon_2id', 'sha_1', 'sha_512', 'scrypt', 'phpass', 'pbkdf_2'] as const;
export type PasswordHashType = (typeof PASSWORD_HASH_TYPES)[number];

/** `md_5_config`, `sha_1_config`, `sha_512_config`: the salt the other system put before or after the password. */
export interface SaltedDigestConfig {
  readonly prependSalt: string;
  readonly appendSalt: string;
}

/** `argon_2_config`, for a raw (hex) argon2 hash rather than a PHC string. */
export interface Argon2Config {
  readonly salt: string;
  readonly iterationAmount: number;
  /** KiB. */
  readonly memory: number;
  readonly threads: number;
  readonly keyLength: number;
}

/** `scrypt_config`, for a base64 hash rather than a PHC-like string. Salt is base64. */
export interface ScryptConfig {
  readonly salt: string;
  readonly nParameter: number;
  readonly rParameter: number;
  readonly pParameter: number;
  readonly keyLength: number;
}

/** `pbkdf_2_config`. Salt and hash are base64. */
export interface Pbkdf2Config {
  readonly salt: string;
  readonly iterationAmount: number;
  readonly keyLength: number;
  readonly algorithm: 'sha256' | 'sha512';
}

/** Whatever configuration a migrated hash needs besides its text; null for self-describing hashes. */
export type PasswordHashConfig =
  | { readonly type: 'salted_digest'; readonly config: SaltedDigestConfig }
  | { readonly type: 'argon_2'; readonly config: Argon2Config }
  | { readonly type: 'scrypt'; readonly config: ScryptConfig }
  | { readonly type: 'pbkdf_2'; readonly config: Pbkdf2Config };

/** A hash and how to verify it: what `member_passwords` keeps of a password. */
export interface PasswordHash {
  readonly hashType: PasswordHashType;
  readonly hash: string;
  readonly config: PasswordHashConfig | null;
}

/** A member's password as stored. The member row's `member_password_id` names it. */
export interface StoredPassword extends PasswordHash {
  readonly memberPasswordId: string;
  readonly memberId: string;
  readonly organizationId: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}
