import { effectiveRoles, isAdmin, type Member } from '../../domain/members/member.js';
import type { CreateMemberInput, UpdateMemberInput } from '../../domain/members/members-service.js';
import type { Organization } from '../../domain/organizations/organization.js';
import { bool, jsonObject, objectSchema, str, strList } from './schema-types.js';

/** Stytch's Member object (`api_organization_v1_Member` in the contract). */
export interface MemberWire {
  organization_id: string;
  member_id: string;
  email_address: string;
  status: string;
  name: string;
  sso_registrations: never[];
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

/** The organization is needed because email-domain implicit roles come from its settings. */
export function encodeMember(member: Member, organization: Organization): MemberWire {
  const roles = effectiveRoles(member, organization);
  return {
    organization_id: member.organizationId,
    member_id: member.memberId,
    email_address: member.emailAddress,
    status: member.status,
    name: member.name,
    // TODO(SSO and OAuth issues): registrations appear once those sign-in methods exist.
    sso_registrations: [],
    is_breakglass: member.isBreakglass,
    member_password_id: member.memberPasswordId,
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

export const memberParams = objectSchema({ organization_id: str, member_id: str }, ['organization_id', 'member_id']);

export const createMemberBody = objectSchema(
  {
    email_address: str,
    name: str,
    trusted_metadata: jsonObject,
    untrusted_metadata: jsonObject,
    create_member_as_pending: bool,
    is_breakglass: bool,
    mfa_phone_number: str,
    mfa_enrolled: bool,
    roles: strList,
    external_id: str,
  },
  ['email_address'],
);

export const updateMemberBody = objectSchema({
  name: str,
  trusted_metadata: jsonObject,
  untrusted_metadata: jsonObject,
  is_breakglass: bool,
  mfa_phone_number: str,
  mfa_enrolled: bool,
  roles: strList,
  preserve_existing_sessions: bool,
  default_mfa_method: str,
  email_address: str,
  external_id: str,
  unlink_email: bool,
});

export const getMemberQuery = objectSchema({ member_id: str, email_address: str });

export const searchMembersBody = objectSchema(
  {
    organization_ids: strList,
    cursor: str,
    limit: { type: ['integer', 'string'] },
    query: objectSchema({ operator: str, operands: { type: 'array', maxItems: 100 } }),
  },
  ['organization_ids'],
);

type Body = Record<string, unknown>;

export function decodeCreateMember(body: Body): CreateMemberInput {
  return {
    emailAddress: body.email_address as string,
    name: body.name as string | undefined,
    trustedMetadata: body.trusted_metadata as Record<string, unknown> | undefined,
    untrustedMetadata: body.untrusted_metadata as Record<string, unknown> | undefined,
    createMemberAsPending: body.create_member_as_pending as boolean | undefined,
    isBreakglass: body.is_breakglass as boolean | undefined,
    mfaPhoneNumber: body.mfa_phone_number as string | undefined,
    mfaEnrolled: body.mfa_enrolled as boolean | undefined,
    roles: body.roles as string[] | undefined,
    externalId: body.external_id as string | undefined,
  };
}

export function decodeUpdateMember(body: Body): UpdateMemberInput {
  return {
    name: body.name as string | undefined,
    trustedMetadata: body.trusted_metadata as Record<string, unknown> | undefined,
    untrustedMetadata: body.untrusted_metadata as Record<string, unknown> | undefined,
    isBreakglass: body.is_breakglass as boolean | undefined,
    mfaPhoneNumber: body.mfa_phone_number as string | undefined,
    mfaEnrolled: body.mfa_enrolled as boolean | undefined,
    roles: body.roles as string[] | undefined,
    preserveExistingSessions: body.preserve_existing_sessions as boolean | undefined,
    defaultMfaMethod: body.default_mfa_method as string | undefined,
    emailAddress: body.email_address as string | undefined,
    externalId: body.external_id as string | undefined,
    unlinkEmail: body.unlink_email as boolean | undefined,
  };
}
