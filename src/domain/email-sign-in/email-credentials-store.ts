import type { ReadForUpdate } from '../common/read-for-update.js';
import type { EmailCredential, EmailCredentialKind } from './email-credential.js';

/** Storage port for magic links and one-time codes. Tokens and codes are never stored, only digests. */
export interface EmailCredentialsStore {
  /** `lookupId` is the magic link token's lookup id (null for a one-time code, found by address instead). */
  insertCredential(credential: EmailCredential, secret: { readonly lookupId: string | null; readonly digest: Buffer }): Promise<void>;
  /** The magic link whose token has this lookup id, with its digest, whatever its state; undefined when none. */
  findCredentialByLookupId(lookupId: string): Promise<{ credential: EmailCredential; digest: Buffer } | undefined>;
  /**
   * The newest unspent one-time code of this kind sent to this address for this organization (null
   * for discovery), with its digest; undefined when none. A newer code voids the older ones, so
   * there is at most one. `forUpdate` locks it until the transaction ends (ReadForUpdate), so
   * concurrent guesses are compared and counted one after the other.
   */
  findLatestCode(
    kind: EmailCredentialKind,
    organizationId: string | null,
    emailAddress: string,
    options?: ReadForUpdate,
  ): Promise<{ credential: EmailCredential; digest: Buffer } | undefined>;
  /**
   * Serializes, until the transaction ends, every transaction that sends a code of this kind to this
   * address for this organization: voiding the earlier codes and writing the new one then happen as
   * one step, so two sends racing never leave two live codes. (SQLite: every transaction already holds
   * the write lock.)
   */
  lockCodeAddress(kind: EmailCredentialKind, organizationId: string | null, emailAddress: string): Promise<void>;
  /**
   * Marks the credential spent if it is still redeemable at `at` (unspent, unexpired), in one
   * conditional update; returns whether it was, so of two concurrent redemptions exactly one wins.
   */
  consumeCredential(credentialId: string, at: string): Promise<boolean>;
  /**
   * Counts one wrong code against an unspent credential in one update, and voids it (consumed_at = at)
   * when this makes `maxFailedAttempts`; returns the new count, or undefined when it was already spent.
   */
  recordFailedAttempt(credentialId: string, maxFailedAttempts: number, at: string): Promise<number | undefined>;
  /** Voids every unspent code of this kind sent to this address for this organization (a new one is being sent). */
  voidCodes(kind: EmailCredentialKind, organizationId: string | null, emailAddress: string, at: string): Promise<void>;
  /** Deletes every credential of the member (deleted, or their address changed): their links and codes die with them. */
  deleteCredentialsForMember(memberId: string): Promise<void>;
  /** Deletes every credential of the organization (deleted). */
  deleteCredentialsForOrganization(organizationId: string): Promise<void>;
  /** Deletes the credentials that expired before `before`, spent or not; returns how many. */
  deleteExpiredCredentials(before: string): Promise<number>;
}
