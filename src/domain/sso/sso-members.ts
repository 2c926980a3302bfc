import type { IdGenerator } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { OperationContext } from '../common/operation-context.js';
import { FOR_UPDATE, type ReadForUpdate } from '../common/read-for-update.js';
import { canonicalEmail, newMember, type Member, type MemberSsoRegistration } from '../members/member.js';
import type { MembersStore, SsoStateChanges } from '../members/members-store.js';
import type { Organization } from '../organizations/organization.js';
import { ssoError } from './errors.js';
import { registrationPrefixOf } from './sso-factor.js';
import type { SsoStore } from './sso-store.js';
import type { SsoToken } from './sso-token.js';

type Ports = { members: MembersStore; sso: SsoStore; audit: AuditStore };

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
 * The live member of the organization whom an IdP's answer through `connectionId` names: the one
 * the IdP subject is linked to, so a person whose address changed at the IdP is still the same
 * member; otherwise the member with the address the IdP asserted. Undefined when neither exists
 * (just-in-time provisioning decides). Locked (FOR_UPDATE, the default) for sso.authenticate, whose
 * caller locked the organization first; read plainly where only the redirect URL depends on it.
 */
export async function findSsoMember(
  tx: Pick<Ports, 'members' | 'sso'>,
  organizationId: string,
  answer: Pick<SsoToken, 'connectionId' | 'proof'>,
  lock: ReadForUpdate = FOR_UPDATE,
): Promise<Member | undefined> {
  const live = (member: Member | undefined): Member | undefined => (member !== undefined && member.status !== 'deleted' && member.organizationId === organizationId ? member : undefined);
  const linked = await tx.sso.findSubjectMember(answer.connectionId, answer.proof.subject);
  const byLink = linked === undefined ? undefined : live(await tx.members.findMemberById(linked, lock));
  if (byLink !== undefined || answer.proof.emailAddress === '') return byLink;
  const byEmail = await tx.members.findMemberByEmail(organizationId, canonicalEmail(answer.proof.emailAddress));
  // Read unlocked to learn the id, then locked by it: a delete may have committed in between.
  return byEmail === undefined ? undefined : live(await tx.members.findMemberById(byEmail.memberId, lock));
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
      name: token.proof.name,
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
  const name = token.proof.name;
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
