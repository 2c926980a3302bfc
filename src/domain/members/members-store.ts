import type { PageRequest } from '../common/pagination.js';
import type { ReadForUpdate } from '../common/read-for-update.js';
import type { SearchQuery } from '../common/search.js';
import type { Member } from './member.js';

/** Storage port for members. Every lookup is scoped by organization (style rule 11). */
export interface MembersStore {
  /** Inserts a member; throws UniqueConstraintError('email_address' | 'external_id') when a live member holds either. */
  insertMember(member: Member): Promise<void>;
  /** Replaces every stored field of the member with this id in this organization; same errors as insert; no-op when absent. */
  updateMember(member: Member): Promise<void>;
  /** The member of `organizationId` whose id (or, failing that, external id) is `reference`; live members win over deleted ones; undefined when none. */
  findMember(organizationId: string, reference: string, options?: ReadForUpdate): Promise<Member | undefined>;
  /** The live (not deleted) member of `organizationId` with this normalized email address, or undefined. */
  findMemberByEmail(organizationId: string, emailAddress: string): Promise<Member | undefined>;
  /**
   * The live members of `organizationId` who verified this E.164 `mfa_phone_number` (otps.sms.authenticate):
   * a number verified by one member cannot be linked or verified by another. [] when none.
   */
  findMembersWithVerifiedPhoneNumber(organizationId: string, phoneNumber: string): Promise<Member[]>;
  /** The member with this id in any organization, or undefined. `forUpdate` (here and in findMember) locks it (ReadForUpdate). */
  findMemberById(memberId: string, options?: ReadForUpdate): Promise<Member | undefined>;
  /**
   * An email proof signed the member in: `pending` and `invited` become `active` and the address is
   * verified, in one conditional update of those columns only. Returns the member as now stored, or
   * undefined when it is deleted or gone.
   */
  markSignedInByEmail(organizationId: string, memberId: string, at: string): Promise<Member | undefined>;
  /**
   * An invitation was sent: a `pending` member becomes `invited` (any other status is left as is), in
   * one conditional update; returns the member as now stored, or undefined when gone.
   */
  markInvited(organizationId: string, memberId: string, at: string): Promise<Member | undefined>;
  /**
   * Sets the member's `member_password_id` (empty: no password) and nothing else, in one update of
   * that column; returns the member as now stored, or undefined when deleted or gone.
   */
  setMemberPasswordId(organizationId: string, memberId: string, memberPasswordId: string, at: string): Promise<Member | undefined>;
  /**
   * Sets the member's MFA columns that `changes` names (`mfa_enrolled`, `default_mfa_method`,
   * `mfa_phone_number`, `mfa_phone_number_verified`, `totp_registration_id`) and nothing else, in one
   * update; returns the member as now stored, or undefined when deleted or gone.
   */
  setMfaState(organizationId: string, memberId: string, changes: MfaStateChanges, at: string): Promise<Member | undefined>;
  /**
   * Sets (or, with null, clears) the member's lock columns (`is_locked`, `lock_created_at`,
   * `lock_expires_at`) and nothing else; returns the member as now stored, or undefined when gone.
   */
  setMemberLock(organizationId: string, memberId: string, lock: { readonly createdAt: string; readonly expiresAt: string } | null, at: string): Promise<Member | undefined>;
  /**
   * What an SSO sign-in learned of the member: sets `sso_registrations` and `sso_groups` (and, when
   * `changes` names them, `status`, `email_address_verified` and `name`) and nothing else, in one
   * update, whatever the member's status. The caller holds the member's row lock (FOR_UPDATE) and
   * computed `changes` from the row as locked. Returns the member as now stored, or undefined when gone.
   */
  setSsoState(organizationId: string, memberId: string, changes: SsoStateChanges, at: string): Promise<Member | undefined>;
  /**
   * Clears the member's `member_password_id` and lock columns, whatever their status (a deleted
   * member's too, so a reactivation brings back neither), in one update of those columns only.
   */
  clearPasswordState(organizationId: string, memberId: string, at: string): Promise<void>;
  /** One page (`limit + 1` rows, oldest first) of members of `organizationIds` matching `query`, and the total. */
  searchMembers(organizationIds: readonly string[], query: SearchQuery, page: PageRequest): Promise<{ rows: Member[]; total: number }>;
  /** Every live (not deleted) member with this canonical email address, in any organization (discovery); [] when none. */
  findLiveMembersByEmail(emailAddress: string): Promise<Member[]>;
  /**
   * Of `organizationIds`, those with at least one live member whose address is verified and on
   * `domain` (lower case), in no particular order: discovery offers joining by email domain only there.
   */
  findOrganizationsWithVerifiedMemberOnDomain(organizationIds: readonly string[], domain: string): Promise<string[]>;
}

/** The MFA columns of a member that MFA operations write. */
export type MfaStateChanges = Partial<Pick<Member, 'mfaEnrolled' | 'defaultMfaMethod' | 'mfaPhoneNumber' | 'mfaPhoneNumberVerified' | 'totpRegistrationId'>>;

/** The columns of a member that an SSO sign-in (or the member's deletion) writes. */
export type SsoStateChanges = Pick<Member, 'ssoRegistrations' | 'ssoGroups'> & Partial<Pick<Member, 'status' | 'emailAddressVerified' | 'name'>>;
