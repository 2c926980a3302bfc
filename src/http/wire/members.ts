import { effectiveRoles, isAdmin, type Member } from '../../domain/members/member.js';
import type { Organization } from '../../domain/organizations/organization.js';
import { shareJson } from './answer-json.js';
import { deepFreeze } from '../../platform/deep-freeze.js';

/** Stytch's Member object (`api_organization_v1_Member` in the contract). */
export interface MemberWire {
  organization_id: string;
  member_id: string;
  email_address: string;
  status: string;
  name: string;
  sso_registrations: SsoRegistrationWire[];
  is_breakglass: boolean;
  member_password_id: string;
  oauth_registrations: never[];
  email_address_verified: boolean;
  mfa_phone_number_verified: boolean;
  is_admin: boolean;
  totp_registration_id: string;
  retired_email_addresses: { email_id: string; email_address: string }[];
  is_locked: boolean;
  mfa_enrolled: boolean;
  mfa_phone_number: string;
  default_mfa_method: string;
  roles: { role_id: string; sources: { type: string; details: Record<string, unknown> }[] }[];
  trusted_metadata: Record<string, unknown>;
  untrusted_metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  external_id: string;
  lock_created_at: string | null;
  lock_expires_at: string | null;
}

/** One of the member's links to an identity at an SSO connection's IdP (`api_organization_v1_SSORegistration`). */
export interface SsoRegistrationWire {
  connection_id: string;
  external_id: string;
  registration_id: string;
  sso_attributes: Record<string, unknown>;
}

/** Wire members of shared (frozen) member and organization versions, encoded once per pair. */
const ENCODED = new WeakMap<Member, WeakMap<Organization, MemberWire>>();

/**
 * The organization is needed because email-domain implicit roles come from its settings. Members
 * and organizations the store shares between requests (frozen, row-memo.ts) are encoded once, and
 * their wire object's JSON text is reused (answer-json.ts).
 */
export function encodeMember(member: Member, organization: Organization): MemberWire {
  if (!Object.isFrozen(member) || !Object.isFrozen(organization)) return toWire(member, organization);
  let byOrganization = ENCODED.get(member);
  if (byOrganization === undefined) {
    byOrganization = new WeakMap<Organization, MemberWire>();
    ENCODED.set(member, byOrganization);
  }
  let wire = byOrganization.get(organization);
  if (wire === undefined) {
    wire = shareJson(deepFreeze(toWire(member, organization)));
    byOrganization.set(organization, wire);
  }
  return wire;
}

function toWire(member: Member, organization: Organization): MemberWire {
  const roles = effectiveRoles(member, organization);
  return {
    organization_id: member.organizationId,
    member_id: member.memberId,
    email_address: member.emailAddress,
    status: member.status,
    name: member.name,
    sso_registrations: member.ssoRegistrations.map((registration) => ({
      connection_id: registration.connectionId,
      external_id: registration.externalId,
      registration_id: registration.registrationId,
      sso_attributes: { ...registration.ssoAttributes },
    })),
    is_breakglass: member.isBreakglass,
    member_password_id: member.memberPasswordId,
    // TODO(OAuth): registrations appear once that sign-in method exists.
    oauth_registrations: [],
    email_address_verified: member.emailAddressVerified,
    mfa_phone_number_verified: member.mfaPhoneNumberVerified,
    is_admin: isAdmin(roles),
    totp_registration_id: member.totpRegistrationId,
    retired_email_addresses: member.retiredEmailAddresses.map((entry) => ({ email_id: entry.emailId, email_address: entry.emailAddress })),
    is_locked: member.isLocked,
    mfa_enrolled: member.mfaEnrolled,
    mfa_phone_number: member.mfaPhoneNumber,
    default_mfa_method: member.defaultMfaMethod,
    roles: roles.map((role) => ({ role_id: role.roleId, sources: role.sources.map((source) => ({ type: source.type, details: { ...source.details } })) })),
    trusted_metadata: { ...member.trustedMetadata },
    untrusted_metadata: { ...member.untrustedMetadata },
    created_at: member.createdAt,
    updated_at: member.updatedAt,
    external_id: member.externalId ?? '',
    lock_created_at: member.lockCreatedAt,
    lock_expires_at: member.lockExpiresAt,
  };
}
