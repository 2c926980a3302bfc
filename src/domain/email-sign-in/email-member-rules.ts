import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { OperationContext } from '../common/operation-context.js';
import { UniqueConstraintError } from '../common/unique-constraint-error.js';
import { emailDomain, newMember, type Member } from '../members/member.js';
import type { MembersStore } from '../members/members-store.js';
import type { Organization } from '../organizations/organization.js';
import { emailSignInError } from './errors.js';

/** The email sign-in methods an organization's `auth_methods` can restrict. */
export type EmailMethod = 'magic_link' | 'email_otp';

/**
 * `auth_methods: RESTRICTED` allows only the methods in `allowed_auth_methods`. Break-glass members
 * are exempt, as in Stytch, so an admin locked out by a policy change can still get in.
 */
export function checkMethodAllowed(organization: Organization, member: Member | undefined, method: EmailMethod | 'password' | 'sso'): void {
  const { authMethods, allowedAuthMethods } = organization.settings;
  if (authMethods !== 'RESTRICTED' || allowedAuthMethods.includes(method)) return;
  if (member?.isBreakglass === true) return;
  throw emailSignInError('operation_restricted_by_organization_auth_methods', `The organization's auth_methods do not allow ${method}.`);
}

/** A new member may join by email only when `email_jit_provisioning` is RESTRICTED and the address's domain is allowed. */
export function checkJitProvisioning(organization: Organization, emailAddress: string): void {
  const { emailJitProvisioning, emailAllowedDomains } = organization.settings;
  if (emailJitProvisioning !== 'RESTRICTED') throw emailSignInError('email_jit_provisioning_not_allowed');
  if (!emailAllowedDomains.includes(emailDomain(emailAddress))) throw emailSignInError('invalid_email_for_jit_provisioning');
}

/** Whether `checkJitProvisioning` would let this address join (discovery lists such organizations). */
export function mayJoinByEmail(organization: Organization, emailAddress: string): boolean {
  const { emailJitProvisioning, emailAllowedDomains } = organization.settings;
  return emailJitProvisioning === 'RESTRICTED' && emailAllowedDomains.includes(emailDomain(emailAddress));
}

/** `email_invites`: ALL_ALLOWED, RESTRICTED to `email_allowed_domains`, or NOT_ALLOWED. */
export function checkInvitesAllowed(organization: Organization, emailAddress: string): void {
  const { emailInvites, emailAllowedDomains } = organization.settings;
  if (emailInvites === 'NOT_ALLOWED') throw emailSignInError('email_invites_not_allowed');
  if (emailInvites === 'RESTRICTED' && !emailAllowedDomains.includes(emailDomain(emailAddress))) throw emailSignInError('invalid_email_for_invites');
}

/** Who a login-or-signup send goes to: an active member gets the login message; a new, pending or invited one the signup message. */
export interface SendTarget {
  readonly member: Member;
  /** A member was created just now (just-in-time, as `pending`). */
  readonly created: boolean;
  readonly purpose: 'login' | 'signup';
}

type Ports = { members: MembersStore; audit: AuditStore };

/**
 * The member a magic link or code for `emailAddress` (canonical) is sent to, inside the send's
 * transaction: the live member with that address, or one created now as `pending` when the
 * organization lets the address join by email. The method must be allowed for them. Two sends to
 * a new address racing each other both try to create the member: one insert loses on the unique
 * address, and `retryOnceOnDuplicate` reruns its transaction, which then finds the member.
 */
export async function sendTargetFor(
  tx: Ports,
  dependencies: { ids: IdGenerator; clock: Clock; audit: AuditRecorder },
  context: OperationContext,
  organization: Organization,
  emailAddress: string,
  method: EmailMethod,
): Promise<SendTarget> {
  const existing = await tx.members.findMemberByEmail(organization.organizationId, emailAddress);
  if (existing !== undefined) {
    checkMethodAllowed(organization, existing, method);
    return { member: existing, created: false, purpose: existing.status === 'active' ? 'login' : 'signup' };
  }
  checkMethodAllowed(organization, undefined, method);
  checkJitProvisioning(organization, emailAddress);
  const at = toTimestamp(dependencies.clock.now());
  const member = newMember({ memberId: dependencies.ids.next('member'), organization, emailAddress, status: 'pending', at });
  await tx.members.insertMember(member);
  await dependencies.audit.record(tx.audit, context, {
    type: 'member.created',
    organizationId: organization.organizationId,
    memberId: member.memberId,
    occurredAt: at,
    details: { status: member.status, roles: member.assignedRoles, by: `${method}_jit_provisioning` },
  });
  return { member, created: true, purpose: 'signup' };
}

/**
 * Runs a transaction that may create a member, once more if it lost a race to create the same one
 * (a unique address): the second run finds the member the winner created. PostgreSQL aborts a
 * transaction at its failed insert, so the retry is a new transaction rather than a re-read.
 */
export async function retryOnceOnDuplicate<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof UniqueConstraintError && error.field === 'email_address') return work();
    throw error;
  }
}
