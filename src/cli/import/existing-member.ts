import type { Member } from '../../domain/members/member.js';
import type { PasswordHash, StoredPassword } from '../../domain/passwords/stored-password.js';
import type { MemberLine } from './member-line.js';

/** What importing a line does to a member the organization already has. */
export type ExistingMemberOutcome = 'unchanged' | 'kept' | 'update';

/**
 * Decides for a member that exists, from what is stored:
 * - `kept`: the line brings a hash, and the stored password is another argon2id hash, ours: the
 *   member signed in since the import (their migrated hash was replaced at that sign-in) or set a
 *   new password. The file's older hash must not take it back; the member is left as is.
 * - `unchanged`: the member already has the line's hash (or the line has none) and every field the
 *   line gives, and is active with a verified address: an import of the same file again.
 * - `update`: anything else; passwords.migrate then writes the line's hash and fields.
 */
export function existingMemberOutcome(member: Member, stored: StoredPassword | undefined, line: MemberLine): ExistingMemberOutcome {
  if (line.hash !== undefined && stored !== undefined && !sameHash(stored, line.hash) && stored.hashType === 'argon_2id') return 'kept';
  const samePassword = line.hash === undefined || (stored !== undefined && sameHash(stored, line.hash));
  return samePassword && hasFields(member, line) ? 'unchanged' : 'update';
}

export function sameHash(stored: PasswordHash, given: PasswordHash): boolean {
  return stored.hashType === given.hashType && stored.hash === given.hash && canonicalJson(stored.config) === canonicalJson(given.config);
}

/** Whether passwords.migrate would change nothing of the member (the fields it compares, as it would set them). */
function hasFields(member: Member, line: MemberLine): boolean {
  const { name, roles, trustedMetadata, untrustedMetadata, mfaPhoneNumber, setPhoneNumberVerified } = line.fields;
  if (member.status !== 'active' || !member.emailAddressVerified) return false;
  if (name !== undefined && name !== member.name) return false;
  if (roles !== undefined && JSON.stringify([...new Set(roles)]) !== JSON.stringify(member.assignedRoles)) return false;
  if (trustedMetadata !== undefined && canonicalJson(trustedMetadata) !== canonicalJson(member.trustedMetadata)) return false;
  if (untrustedMetadata !== undefined && canonicalJson(untrustedMetadata) !== canonicalJson(member.untrustedMetadata)) return false;
  if (mfaPhoneNumber === undefined) return true;
  if (mfaPhoneNumber !== member.mfaPhoneNumber) return false;
  // The same number stays verified once it was; a number given as verified becomes so.
  const verified = mfaPhoneNumber !== '' && (setPhoneNumberVerified === true || member.mfaPhoneNumberVerified);
  return verified === member.mfaPhoneNumberVerified;
}

/** JSON with object keys sorted, so two equal values compare equal whatever order their keys were written in. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}
