import type { IdGenerator } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { OperationContext } from '../common/operation-context.js';
import { FOR_UPDATE } from '../common/read-for-update.js';
import { emailSignInError } from '../email-sign-in/errors.js';
import { canonicalEmail, newMember, type Member, type MemberSsoRegistration } from '../members/member.js';
import type { MembersStore, SsoStateChanges } from '../members/members-store.js';
import type { Organization } from '../organizations/organization.js';
import { ssoError } from './errors.js';
import { registrationPrefixOf } from './sso-factor.js';
import type { SsoStore } from './sso-store.js';
import type { SsoToken } from './sso-token.js';

type Ports = { members: MembersStore; sso: SsoStore; audit: AuditStore };

/** Longest member name kept (members.create's limit); an IdP's longer name is cut, not refused: the member did not type it here. */
const NAME_LIMIT = 1024;

/**
 * `auth_methods: RESTRICTED` must list `sso`. Break-glass members are exempt, as Stytch documents (an
 * admin locked out by a policy change can still get in); a member about to be provisioned is not one.
 */
export function checkSsoAllowed(organization: Organization, member: Member | undefined): void {
  const { authMethods, allowedAuthMethods } = organization.settings;
  if (authMethods !== 'RESTRICTED' || allowedAuthMethods.includes('sso') || member?.isBreakglass === true) return;
  throw emailSignInError('operation_restricted_by_organization_auth_methods', "The organization's auth_methods do not allow sso.");
}

/**
 * `sso_jit_provisioning`: ALL_ALLOWED lets anyone the connection's IdP vouches for join, RESTRICTED
 * only through the connections in `sso_jit_provisioning_allowed_connections`, NOT_ALLOWED no one.
 * Stytch has no `sso_jit_provisioning_not_allowed`; its `invalid_connection_for_jit_provisioning`
 * (this connection may not provision members) is answered in both refusals (docs/sso.md).
 */
export function checkSsoJitProvisioning(organization: Organization, connectionId: string): void {
  const { ssoJitProvisioning, ssoJitProvisioningAllowedConnections } = organization.settings;
  if (ssoJitProvisioning === 'ALL_ALLOWED') return;
  if (ssoJitProvisioning === 'RESTRICTED' && ssoJitProvisioningAllowedConnections.includes(connectionId)) return;
  throw ssoError(
    'invalid_connection_for_jit_provisioning',
    ssoJitProvisioning === 'RESTRICTED'
      ? "No member has this email address, and this connection is not in the organization's sso_jit_provisioning_allowed_connections."
      : "No member has this email address, and the organization's sso_jit_provisioning is NOT_ALLOWED.",
  );
}

/**
 * The live member of the organization an SSO token names, locked (FOR_UPDATE; the caller locked the
 * organization first): the one the connection's IdP subject is linked to, so a person whose address
 * changed at the IdP is still the same member; otherwise the member with the address the IdP
 * asserted. Undefined when neither exists (just-in-time provisioning decides).
 */
export async function findSsoMember(tx: Ports, organization: Organization, token: SsoToken): Promise<Member | undefined> {
  const live = (member: Member | undefined): Member | undefined =>
    member !== undefined && member.status !== 'deleted' && member.organizationId === organization.organizationId ? member : undefined;
  const linked = await tx.sso.findSubjectMember(token.connectionId, token.proof.subject);
  const byLink = linked === undefined ? undefined : live(await tx.members.findMemberById(linked, FOR_UPDATE));
  if (byLink !== undefined || token.proof.emailAddress === '') return byLink;
  const byEmail = await tx.members.findMemberByEmail(organization.organizationId, canonicalEmail(token.proof.emailAddress));
  // Read unlocked to learn the id, then locked by it: a delete may have committed in between.
  return byEmail === undefined ? undefined : live(await tx.members.findMemberById(byEmail.memberId, FOR_UPDATE));
}

/** The member's registration for this connection and subject, with its id kept when there is one, as the IdP now asserts it. */
function registrationFor(member: Member | undefined, token: SsoToken, ids: IdGenerator): MemberSsoRegistration {
  const { subject, attributes, protocol } = token.proof;
  const existing = member?.ssoRegistrations.find((registration) => registration.connectionId === token.connectionId && registration.externalId === subject);
  return {
    connectionId: token.connectionId,
    externalId: subject,
    registrationId: existing?.registrationId ?? ids.next(registrationPrefixOf(protocol)),
    ssoAttributes: { ...attributes },
  };
}

/** What the sign-in recorded: the member as now stored and the registration its factor names. */
export interface SsoMemberRecorded {
  readonly member: Member;
  readonly registration: MemberSsoRegistration;
  readonly created: boolean;
}

/**
 * A member created just in time (the caller checked `checkSsoJitProvisioning`): `active`, the address
 * verified (the IdP vouches for it), named as the IdP names them, holding the registration and the
 * groups asserted. `emailAddress` is canonical and valid.
 */
export async function provisionSsoMember(
  tx: Ports,
  dependencies: { ids: IdGenerator; audit: AuditRecorder },
  context: OperationContext,
  input: { organization: Organization; token: SsoToken; emailAddress: string; at: string },
): Promise<SsoMemberRecorded> {
  const { organization, token, at } = input;
  const registration = registrationFor(undefined, token, dependencies.ids);
  const member = newMember({
    memberId: dependencies.ids.next('member'),
    organization,
    emailAddress: input.emailAddress,
    status: 'active',
    at,
    overrides: {
      emailAddressVerified: true,
      name: token.proof.name.slice(0, NAME_LIMIT),
      ssoRegistrations: [registration],
      ssoGroups: { [token.connectionId]: [...token.proof.groups] },
    },
  });
  await tx.members.insertMember(member);
  await dependencies.audit.record(tx.audit, context, {
    type: 'member.created',
    organizationId: organization.organizationId,
    memberId: member.memberId,
    occurredAt: at,
    details: { status: member.status, roles: member.assignedRoles, by: 'sso_jit_provisioning', connection_id: token.connectionId },
  });
  return { member, registration, created: true };
}

/**
 * An existing member (locked) signed in through the connection: its registration for the subject
 * is recorded (its id kept, the attributes replaced), the groups asserted replace the connection's
 * earlier ones, a `pending` or `invited` member becomes `active`, the address is verified when it
 * is the one the IdP asserted, and an empty name is filled from the IdP's. Nothing else changes: a
 * name the member has is kept, and an address the IdP now asserts differently is not copied.
 */
export async function recordSsoSignIn(
  tx: Ports,
  dependencies: { ids: IdGenerator },
  input: { member: Member; token: SsoToken; at: string },
): Promise<SsoMemberRecorded> {
  const { member, token, at } = input;
  const registration = registrationFor(member, token, dependencies.ids);
  const others = member.ssoRegistrations.filter((existing) => existing.registrationId !== registration.registrationId);
  const name = token.proof.name.slice(0, NAME_LIMIT);
  const changes: SsoStateChanges = {
    ssoRegistrations: [...others, registration],
    ssoGroups: { ...member.ssoGroups, [token.connectionId]: [...token.proof.groups] },
    ...((member.status === 'pending' || member.status === 'invited') && { status: 'active' as const }),
    ...(!member.emailAddressVerified && canonicalEmail(token.proof.emailAddress) === member.emailAddress && { emailAddressVerified: true }),
    ...(member.name === '' && name !== '' && { name }),
  };
  const updated = await tx.members.setSsoState(member.organizationId, member.memberId, changes, at);
  if (updated === undefined) throw new Error('a locked member vanished');
  return { member: updated, registration, created: false };
}
