import type { RbacStore } from '../rbac/rbac-store.js';
import type { Environment } from '../../platform/ids.js';
import type { AuditStore } from '../audit/audit-store.js';
import { isDomainError, type DomainError } from '../common/domain-error.js';
import { FOR_SHARE, FOR_UPDATE } from '../common/read-for-update.js';
import type { Member } from '../members/member.js';
import type { MembersStore } from '../members/members-store.js';
import type { Organization } from '../organizations/organization.js';
import type { OrganizationsStore } from '../organizations/organizations-store.js';
import type { VerifiedFactor } from '../sessions/sign-in/verifier.js';
import type { EmailCredential } from './email-credential.js';
import type { EmailCredentialsStore } from './email-credentials-store.js';
import { emailFactor, emailIdOf } from './email-factor.js';
import { checkMethodAllowed, type EmailMethod } from './email-member-rules.js';
import { SignInRefusal } from './email-proofs.js';

/** What signing in with an organization's magic link or code reads and writes besides the pipeline's rows. */
export type EmailSignInPorts = {
  organizations: OrganizationsStore;
  members: MembersStore;
  emailCredentials: EmailCredentialsStore;
  audit: AuditStore;
  /** The project's RBAC policy, read when an invitation assigns roles. */
  rbac: RbacStore;
};

/** The organization and member a proof was sent for, as read (locked) inside the sign-in's transaction. */
export interface EmailSubject {
  readonly organization: Organization | undefined;
  readonly member: Member | undefined;
}

/**
 * Locks the organization (shared) and then the member (for update) a proof names, before the
 * proof's own row is spent: the lock order (read-for-update.ts). A member delete locks the same
 * two rows first and then deletes the member's proofs; spending the proof first would let the two
 * wait for each other.
 */
export async function lockSubject(tx: EmailSignInPorts, credential: EmailCredential): Promise<EmailSubject> {
  if (credential.organizationId === null || credential.memberId === null) return { organization: undefined, member: undefined };
  const organization = await tx.organizations.findOrganization(credential.organizationId, FOR_SHARE);
  const member = organization === undefined ? undefined : await tx.members.findMemberById(credential.memberId, FOR_UPDATE);
  return { organization, member };
}

/** How to judge a proof's subject: the method, and the error of a proof whose member is gone. */
export interface SubjectRules {
  readonly method: EmailMethod;
  readonly gone: () => DomainError;
  readonly at: string;
  readonly environment: Environment;
}

/**
 * The member a proof was sent to, as locked now, if it may still sign in with it: live, with the
 * same address, and the organization's `auth_methods` still allowing the method (a policy change
 * after the send is honoured). A member deleted since the send gets `gone`, the error of an unknown
 * proof: their proofs are deleted with them, so that is what a later attempt gets anyway.
 */
export function checkSubject(subject: EmailSubject, credential: EmailCredential, rules: SubjectRules): { organization: Organization; member: Member } {
  const scope = { organizationId: credential.organizationId, memberId: credential.memberId, method: rules.method };
  const { organization, member } = subject;
  if (organization === undefined) throw new SignInRefusal(rules.gone(), 'organization_deleted', scope);
  if (member === undefined || member.status === 'deleted' || member.organizationId !== organization.organizationId) {
    throw new SignInRefusal(rules.gone(), 'member_deleted', scope);
  }
  if (member.emailAddress !== credential.emailAddress) throw new SignInRefusal(rules.gone(), 'member_email_changed', scope);
  try {
    checkMethodAllowed(organization, member, rules.method);
  } catch (error) {
    if (isDomainError(error)) throw new SignInRefusal(error, 'method_not_allowed', scope);
    throw error;
  }
  return { organization, member };
}

/**
 * The verified factor of a spent proof, its member (checked by `checkSubject`) now `active` with a
 * verified address, since the proof shows they read mail sent to it. That happens even when the
 * pipeline then asks for MFA: the address is proven either way.
 */
export async function signInSubject(
  tx: EmailSignInPorts,
  checked: { organization: Organization; member: Member },
  credential: EmailCredential,
  rules: SubjectRules,
): Promise<VerifiedFactor<EmailSignInPorts>> {
  const { organization, member } = checked;
  // The member is locked (lockSubject): one already active with a verified address has nothing to write.
  const settled = member.status === 'active' && member.emailAddressVerified;
  const activated = settled ? member : await tx.members.markSignedInByEmail(organization.organizationId, member.memberId, rules.at);
  if (activated === undefined) {
    throw new SignInRefusal(rules.gone(), 'member_deleted', { organizationId: credential.organizationId, memberId: credential.memberId, method: rules.method });
  }
  const emailId = emailIdOf(rules.environment, activated.emailAddress, activated.memberId);
  return { member: activated, organization, factor: emailFactor(rules.method, emailId, activated.emailAddress, rules.at), signInMethod: rules.method };
}
