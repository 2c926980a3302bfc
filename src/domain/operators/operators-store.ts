import type { ReadForUpdate } from '../common/read-for-update.js';
import type { ConsoleSession, Operator } from './operator.js';

/**
 * Storage port for console operators and their browser sessions. Every change is one statement
 * that writes only the columns it is about, checking its conditions in the same statement: sign-in
 * attempts, disabling and password resets run concurrently, and none may undo another.
 */
export interface OperatorsStore {
  /** Throws UniqueConstraintError('email_address') when the address is taken. */
  insertOperator(operator: Operator): Promise<void>;
  /** Sets disabled_at (an earlier one is kept) and updated_at; the operator as stored after, or undefined when unknown. */
  disableOperator(operatorId: string, at: string): Promise<Operator | undefined>;
  /** Replaces the password hash and clears failures and any lockout; the operator as stored after, or undefined when unknown. */
  replacePassword(operatorId: string, passwordHash: string, at: string): Promise<Operator | undefined>;
  /**
   * Takes one sign-in attempt before a password or code is checked: counts it as a failure (restarting
   * the count when an earlier lockout has ended) and, when this makes `maxAttempts`, locks the operator
   * until `lockUntil`. Undefined, and nothing changes, when the operator is unknown, disabled or locked
   * at `at`. Atomic: concurrent callers never get more than `maxAttempts` claims per lockout.
   */
  claimSignInAttempt(operatorId: string, claim: { at: string; maxAttempts: number; lockUntil: string }): Promise<SignInClaim | undefined>;
  /**
   * The password was right. With `completesSignIn`, clears failures and lockout; without (TOTP is
   * still to come), hands back the attempt `claim` took, lifting the lockout only when that claim set it.
   * Only while the operator is enabled and still has `passwordHash`: the operator as stored after, else undefined.
   */
  acceptPassword(operatorId: string, accepted: { passwordHash: string; at: string; completesSignIn: boolean; claim: SignInClaim }): Promise<Operator | undefined>;
  /**
   * The TOTP code of `step` was right: records the step and clears failures and lockout, only while the
   * operator is enabled, still has `passwordHash` and the `sealedTotpSecret` the code was checked
   * against (not reset or replaced meanwhile), and has not accepted this step or a later one yet.
   * The operator as stored after, else undefined.
   */
  acceptTotp(operatorId: string, accepted: { passwordHash: string; sealedTotpSecret: string; step: number; at: string }): Promise<Operator | undefined>;
  /**
   * Puts the sealed `secret` in place of `expectedSealed` (null: none) and records `step`, whose code
   * from the new secret confirmed it, as the last one accepted; clears failures and any lockout (both
   * factors were just proven). Only while the operator is enabled, still has `passwordHash` and still
   * has `expectedSealed` (so a setup is finished once, and never over a reset made meanwhile): the
   * operator as stored after, else undefined.
   */
  replaceTotpSecret(operatorId: string, replacement: { expectedSealed: string | null; sealed: string; passwordHash: string; step: number; at: string }): Promise<Operator | undefined>;
  /**
   * Removes the operator's TOTP secret (an admin reset it), only while they have one: the operator as
   * stored after, or undefined (nothing written) when unknown or without a secret.
   */
  clearTotpSecret(operatorId: string, at: string): Promise<Operator | undefined>;
  /** The operator with this (lower-case) email address, or undefined. */
  findOperatorByEmail(emailAddress: string): Promise<Operator | undefined>;
  /** The operator with this id, or undefined; `forUpdate` or `forShare` locks it (ReadForUpdate), so a disable or password reset waits or is waited for. */
  findOperatorById(operatorId: string, options?: ReadForUpdate): Promise<Operator | undefined>;
  /** Every operator, oldest first; [] when none. */
  listOperators(): Promise<Operator[]>;
  insertConsoleSession(session: ConsoleSession, token: { lookupId: string; digest: Buffer }): Promise<void>;
  /** The session whose token has this lookup id, with its digest, whatever its state; undefined when none. */
  findConsoleSession(lookupId: string): Promise<{ session: ConsoleSession; digest: Buffer } | undefined>;
  /** Sets last-seen of a live (unrevoked) session; no-op otherwise. */
  touchConsoleSession(consoleSessionId: string, at: string): Promise<void>;
  /** Revokes a live session; false when it is unknown or already revoked (its time is kept). */
  revokeConsoleSession(consoleSessionId: string, at: string): Promise<boolean>;
  /** Revokes every live console session of the operator; returns how many. */
  revokeConsoleSessionsOf(operatorId: string, at: string): Promise<number>;
}

/** One sign-in attempt taken by claimSignInAttempt. */
export interface SignInClaim {
  /** The failures in a row, this attempt included. */
  readonly failedAttempts: number;
  /** When this attempt locked the operator, until when; null when it did not. */
  readonly lockedUntil: string | null;
}
