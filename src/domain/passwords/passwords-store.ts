import type { ReadForUpdate } from '../common/read-for-update.js';
import type { PasswordHash, StoredPassword } from './stored-password.js';

/** Consecutive wrong passwords for one address in one organization, and the lock they led to. */
export interface PasswordFailures {
  readonly organizationId: string;
  /** Canonical (normalizeEmail), whether or not a member has it. */
  readonly emailAddress: string;
  readonly failedAttempts: number;
  readonly lockedAt: string | null;
  readonly lockExpiresAt: string | null;
}

/**
 * Storage port for members' passwords and failed attempts. Hashes only; never a password. The
 * member row's `member_password_id` is kept in step by the members store's own method, in the same
 * transaction (MembersStore.setMemberPasswordId).
 */
export interface PasswordsStore {
  /** The member's password, or undefined when they have none. `forUpdate` locks it (ReadForUpdate). */
  findPassword(memberId: string, options?: ReadForUpdate): Promise<StoredPassword | undefined>;
  /** The password with this id (organizations.members.deletePassword names it), or undefined. `forUpdate` locks it. */
  findPasswordById(memberPasswordId: string, options?: ReadForUpdate): Promise<StoredPassword | undefined>;
  /** Writes the member's password, replacing any they had (a reset, a rehash): one row per member. */
  savePassword(password: StoredPassword): Promise<void>;
  /**
   * Replaces the hash of the password with this id only if it is still `expected` (a rehash after a
   * sign-in must not undo a reset that committed meanwhile); returns whether it did.
   */
  replaceHash(memberPasswordId: string, expected: PasswordHash, replacement: PasswordHash, at: string): Promise<boolean>;
  /** Deletes the member's password; returns whether there was one. */
  deletePassword(memberId: string): Promise<boolean>;
  /** Deletes the passwords of every member of the organization, and its addresses' failures (deleted). */
  deletePasswordsForOrganization(organizationId: string): Promise<void>;
  /** The failures recorded for this address under `key` (an organization's id, or '' across organizations), locked for update; undefined when none. */
  findFailures(organizationId: string, emailAddress: string): Promise<PasswordFailures | undefined>;
  /**
   * Counts one more attempt for the address, in one atomic statement, before its password is
   * checked, and returns the row as now stored: a lock that expired by `at` is forgotten and the
   * count starts again at 1; while a lock holds, the count stays as it is; an attempt that takes
   * the count past `lock.threshold` starts a lock until `lock.expiresAt` (so a count can never stay
   * past the threshold unlocked, whatever became of the attempts before it). Concurrent attempts
   * therefore each get their own count, and none is lost.
   */
  countAttempt(key: string, emailAddress: string, at: string, lock: { readonly threshold: number; readonly expiresAt: string }): Promise<PasswordFailures>;
  /** Writes the failures of an address (insert or replace). */
  saveFailures(failures: PasswordFailures, at: string): Promise<void>;
  /** Forgets the failures of an address (a successful sign-in or reset). */
  clearFailures(organizationId: string, emailAddress: string): Promise<void>;
  /** Deletes failure rows untouched since `before` whose lock (if any) has ended by then; returns how many (the expiry sweeper). */
  deleteStaleFailures(before: string): Promise<number>;
}
