import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { Environment, IdGenerator } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { OperationContext } from '../common/operation-context.js';
import { FOR_UPDATE } from '../common/read-for-update.js';
import { checkJitProvisioning } from '../email-sign-in/email-member-rules.js';
import { emailFactor, emailIdOf } from '../email-sign-in/email-factor.js';
import { memberError } from '../members/errors.js';
import { emailDomain, newMember, type Member } from '../members/member.js';
import type { MembersStore } from '../members/members-store.js';
import { isCommonEmailDomain, type Organization } from '../organizations/organization.js';
import type { AuthenticationFactor } from '../sessions/session.js';

/*
 * What the exchanges into an organization share (discovery's intermediate-session exchange and
 * organization create, sessions.exchange): which proofs move with the address, and which member of
 * the organization the address becomes.
 */

/** A proof of the email address (a magic link or a code sent to it), the factors that move between organizations. */
export function isEmailProof(factor: AuthenticationFactor): boolean {
  return factor.deliveryMethod === 'email' && (factor.type === 'magic_link' || factor.type === 'email_otp') && factor.detail?.name === 'email_factor';
}

/**
 * The proof as it reads in `member`'s session: its `email_id` is the member's (the one their
 * sign-ins report as `method_id`), as a discovery proof has none of its own. Its times are kept.
 */
export function proofFor(factor: AuthenticationFactor, environment: Environment, member: Member): AuthenticationFactor {
  const moved = emailFactor(factor.type as 'magic_link' | 'email_otp', emailIdOf(environment, member.emailAddress, member.memberId), member.emailAddress, factor.createdAt);
  return { ...moved, lastAuthenticatedAt: factor.lastAuthenticatedAt, updatedAt: factor.updatedAt };
}

type Ports = { members: MembersStore; audit: AuditStore };
type Dependencies = { ids: IdGenerator; clock: Clock; audit: AuditRecorder };

/**
 * The member `emailAddress` (canonical, proved) is in `organization`: the live member with the
 * address, signed in by the proof (pending and invited become active, the address verified) unless
 * `signIn` is false (the organization still wants another primary factor); or, failing one, a member
 * created now when the organization lets the address join by email (just-in-time: active and
 * verified, or pending while a primary factor is still required). `jit: false` (sessions.exchange,
 * which Stytch documents as not joining by domain) answers `member_not_found` instead.
 */
export async function memberForAddress(
  tx: Ports,
  dependencies: Dependencies,
  context: OperationContext,
  organization: Organization,
  emailAddress: string,
  options: { readonly existing: Member | undefined; readonly signIn: boolean; readonly jit: boolean },
): Promise<Member> {
  const { existing, signIn } = options;
  if (existing !== undefined) {
    // Locked (after the organization: the lock order) whether or not it is written: a delete of the
    // member then either commits first and is seen here, or waits and ends the session started here.
    const locked = await tx.members.findMember(organization.organizationId, existing.memberId, FOR_UPDATE);
    if (locked === undefined || locked.status === 'deleted' || locked.emailAddress !== emailAddress) throw memberError('member_not_found');
    if (!signIn) return locked;
    const signedIn = await tx.members.markSignedInByEmail(organization.organizationId, locked.memberId, toTimestamp(dependencies.clock.now()));
    if (signedIn === undefined) throw memberError('member_not_found');
    return signedIn;
  }
  if (!options.jit) throw memberError('member_not_found');
  checkJitProvisioning(organization, emailAddress);
  const at = toTimestamp(dependencies.clock.now());
  const member = newMember({
    memberId: dependencies.ids.next('member'),
    organization,
    emailAddress,
    status: signIn ? 'active' : 'pending',
    at,
    overrides: { emailAddressVerified: signIn },
  });
  await tx.members.insertMember(member);
  await dependencies.audit.record(tx.audit, context, {
    type: 'member.created',
    organizationId: organization.organizationId,
    memberId: member.memberId,
    occurredAt: at,
    details: { status: member.status, roles: member.assignedRoles, by: 'discovery_jit_provisioning' },
  });
  return member;
}

/**
 * Stytch's default name of an organization created in discovery: the address's local part when
 * its domain names a person's mailbox provider (gmail.com, …) or a school (.edu), the domain
 * otherwise. The slug is derived from it as organizations.create derives one from a name.
 */
export function defaultOrganizationName(emailAddress: string): string {
  const domain = emailDomain(emailAddress);
  if (isCommonEmailDomain(domain) || domain.endsWith('.edu')) return emailAddress.slice(0, emailAddress.lastIndexOf('@'));
  return domain;
}
