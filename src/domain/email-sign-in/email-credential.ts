import { sharedError } from '../common/errors.js';
import { emailSignInError } from './errors.js';

/**
 * What an email proof was sent for. A magic link carries a token (found by its lookup id); a
 * one-time code is found by (kind, organization, address) and compared against its digest.
 */
export type EmailCredentialKind = 'magic_link' | 'discovery_magic_link' | 'email_otp' | 'discovery_email_otp' | 'password_reset' | 'discovery_password_reset';

/** Which message it went out in: decides the redirect URL type and the template. */
export type EmailCredentialPurpose = 'login' | 'signup' | 'invite' | 'discovery' | 'reset_password';

/**
 * A single-use email proof (a magic link or a one-time code) as stored: never the token or the
 * code, only a lookup id and a digest. Discovery proofs belong to an address only.
 */
export interface EmailCredential {
  readonly credentialId: string;
  readonly kind: EmailCredentialKind;
  readonly purpose: EmailCredentialPurpose;
  /** The organization signed in to; null for discovery. */
  readonly organizationId: string | null;
  /** The member it signs in; null for discovery. */
  readonly memberId: string | null;
  /** Canonical (normalizeEmail). */
  readonly emailAddress: string;
  /** base64url(SHA-256(verifier)) given at send time; null when the send gave none. */
  readonly pkceCodeChallenge: string | null;
  readonly createdAt: string;
  readonly expiresAt: string;
  /** When it was redeemed, or voided (a newer code, too many wrong guesses); spent from then on. */
  readonly consumedAt: string | null;
  /** Wrong codes entered against it (one-time codes only). */
  readonly failedAttempts: number;
}

/** Neither spent nor expired at `now`. */
export function isRedeemable(credential: EmailCredential, now: string): boolean {
  return credential.consumedAt === null && credential.expiresAt > now;
}

/** Stytch's lifetimes in minutes (default, and the range a send may ask for). */
export const EMAIL_CREDENTIAL_MINUTES = {
  magicLink: { default: 60, min: 5, max: 10080 },
  invite: { default: 10080, min: 5, max: 10080 },
  discoveryMagicLink: { default: 60, min: 5, max: 10080 },
  oneTimeCode: { default: 10, min: 2, max: 15 },
  passwordReset: { default: 30, min: 5, max: 10080 },
} as const;

/** Wrong codes a one-time code survives; the next wrong one voids it (a new code must be sent). */
export const ONE_TIME_CODE_MAX_FAILED_ATTEMPTS = 5;

/** Minutes until a proof expires: the field's value when given (a whole number in range), else the default. */
export function checkExpirationMinutes(
  field: string,
  value: number | undefined,
  range: { readonly default: number; readonly min: number; readonly max: number },
): number {
  if (value === undefined) return range.default;
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    // Stytch's codes: one for links (magic links, invitations), one for one-time codes.
    const message = `${field} must be a whole number of minutes from ${range.min} to ${range.max}.`;
    throw range === EMAIL_CREDENTIAL_MINUTES.oneTimeCode ? emailSignInError('invalid_expiration_otp', message) : sharedError('invalid_expiration', message);
  }
  return value;
}
