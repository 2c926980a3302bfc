import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { OperationContext } from '../common/operation-context.js';
import { memberError } from '../members/errors.js';
import type { Member } from '../members/member.js';
import type { MfaStateChanges } from '../members/members-store.js';
import type { StorePorts } from '../ports.js';

/*
 * The member's MFA columns (`mfa_enrolled`, `default_mfa_method`, `mfa_phone_number_verified`,
 * `totp_registration_id`) as every second factor writes them: only those that change, and what
 * changed recorded.
 */

/** Writes only the MFA columns that change (none: no write), and returns the member as stored. */
export async function applyMfaChanges(tx: Pick<StorePorts, 'members'>, member: Member, changes: MfaStateChanges, at: string): Promise<Member> {
  const differing = Object.fromEntries(Object.entries(changes).filter(([key, value]) => member[key as keyof MfaStateChanges] !== value)) as MfaStateChanges;
  if (Object.keys(differing).length === 0) return member;
  const updated = await tx.members.setMfaState(member.organizationId, member.memberId, differing, at);
  if (updated === undefined) throw memberError('member_not_found');
  return updated;
}

/**
 * What a second factor changed of the member's MFA settings (`mfa_enrolled` on or off, the default
 * method, a registration activated), as `member.mfa_updated`: a sign-in that turns MFA off for the
 * member must show in the trail as more than a sign-in. Nothing when nothing changed.
 */
export async function recordMfaUpdate(
  tx: Pick<StorePorts, 'audit'>,
  audit: AuditRecorder,
  context: OperationContext,
  before: Member,
  after: Member,
  details: Readonly<Record<string, string>>,
): Promise<void> {
  const changed = {
    ...(before.mfaEnrolled !== after.mfaEnrolled && { mfa_enrolled: after.mfaEnrolled }),
    ...(before.defaultMfaMethod !== after.defaultMfaMethod && { default_mfa_method: after.defaultMfaMethod }),
    ...(before.mfaPhoneNumberVerified !== after.mfaPhoneNumberVerified && { mfa_phone_number_verified: after.mfaPhoneNumberVerified }),
    ...(before.totpRegistrationId !== after.totpRegistrationId && { totp_registration_id: after.totpRegistrationId }),
  };
  if (Object.keys(changed).length === 0) return;
  await audit.record(tx.audit, context, {
    type: 'member.mfa_updated',
    organizationId: after.organizationId,
    memberId: after.memberId,
    details: { ...details, ...changed },
  });
}
