import { DomainError, errorFactory, type ErrorKind } from '../common/domain-error.js';
import { sharedError } from '../common/errors.js';

/**
 * Error codes of passwords: Stytch `error_type` values where Stytch has one (docs/errors.md marks
 * ours), each with its kind.
 */
export const PASSWORD_ERRORS = {
  member_reset_password: {
    kind: 'unauthenticated',
    message: "The member's password must be reset before they can sign in with it: it appeared in a data breach or no longer meets the password policy.",
  },
  weak_password: { kind: 'invalid_argument', message: "The password is too weak for the project's password policy; check it with passwords.strengthCheck." },
  breached_password: { kind: 'invalid_argument', message: 'The password has appeared in a data breach; choose another.' },
  unable_to_auth_password_reset_token: {
    kind: 'unauthenticated',
    message: 'The password reset token could not be authenticated: it is unknown, already used or expired. Start another password reset.',
  },
  session_too_old_to_reset_password: {
    kind: 'invalid_argument',
    message: 'The session must have been authenticated in the last 5 minutes to reset the password with it.',
  },
  member_password_not_found: { kind: 'not_found', message: 'The member has no password.' },
  cross_org_passwords_not_enabled: { kind: 'invalid_argument', message: 'Cross-organization passwords are not enabled for this project.' },
  invalid_hash_type: { kind: 'invalid_argument', message: 'hash_type must be one of bcrypt, md_5, argon_2i, argon_2id, sha_1, sha_512, scrypt, phpass or pbkdf_2.' },
  invalid_hash: { kind: 'invalid_argument', message: 'The hash is not in the form its hash_type needs.' },
  invalid_bcrypt_hash: { kind: 'invalid_argument', message: 'The bcrypt hash is not a valid $2a$/$2b$/$2y$ hash.' },
  invalid_md_5_hash: { kind: 'invalid_argument', message: 'The md_5 hash must be 32 hexadecimal characters.' },
  invalid_sha_1_hash: { kind: 'invalid_argument', message: 'The sha_1 hash must be 40 hexadecimal characters.' },
  invalid_sha_512_hash: { kind: 'invalid_argument', message: 'The sha_512 hash must be 128 hexadecimal characters.' },
  invalid_pbkdf_2_hash: { kind: 'invalid_argument', message: 'The pbkdf_2 hash must be base64, with a pbkdf_2_config.' },
  invalid_base64_scrypt_hash: { kind: 'invalid_argument', message: 'The scrypt hash must be base64, with a scrypt_config.' },
  invalid_phpass_hash_format: { kind: 'invalid_argument', message: 'The phpass hash must be 34 characters.' },
  invalid_phpass_hash_prefix: { kind: 'invalid_argument', message: 'The phpass hash must start with $P$ or $H$.' },
  invalid_argon_2_hash: { kind: 'invalid_argument', message: 'The argon2 hash must be a PHC string ($argon2i$… or $argon2id$…), or hex with an argon_2_config.' },
  invalid_argon_2_config: { kind: 'invalid_argument', message: 'argon_2_config needs salt, iteration_amount, memory, threads and key_length.' },
  argon_2_key_length_mismatch: { kind: 'invalid_argument', message: 'The argon2 hash is not key_length bytes long.' },
  invalid_hash_config: { kind: 'invalid_argument', message: 'The hash configuration given does not fit the hash_type.' },
  // Answered 429 with Retry-After by UserLockedError below.
  user_lock_limit_reached: {
    kind: 'rate_limited',
    message: 'Too many failed password attempts: sign-in is locked for a while. Try again later, or reset the password.',
  },
} as const satisfies Record<string, { kind: ErrorKind; message: string }>;

export type PasswordErrorCode = keyof typeof PASSWORD_ERRORS;

export const passwordError = errorFactory(PASSWORD_ERRORS);

/**
 * Too many wrong passwords in a row: the address is locked until `lockExpiresAt`, whatever password
 * is given. Answered 429 with Retry-After (the seconds left), like a rate limit.
 */
export class UserLockedError extends DomainError<'user_lock_limit_reached'> {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super(PASSWORD_ERRORS.user_lock_limit_reached.kind, 'user_lock_limit_reached', PASSWORD_ERRORS.user_lock_limit_reached.message);
    this.name = 'UserLockedError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * A wrong password, an unknown address and an address without a password all get this one answer
 * (Stytch's `unauthorized_credentials`, shared with project authentication), so a sign-in never
 * tells a caller which addresses are members.
 */
export function wrongPasswordError(): DomainError {
  return sharedError('unauthorized_credentials', 'Unauthorized credentials: the email address and password do not match.');
}
