import type { DiscoveredOrganization } from '../../domain/discovery/discovered-organizations.js';
import type { MfaRequirement } from '../../domain/sessions/sign-in/auth-outcome.js';
import { encodeMember } from '../../http/wire/members.js';
import { encodeOrganization } from '../../http/wire/organizations.js';

/**
 * Stytch's `discovered_organizations` entries. `membership.details` is null for memberships and
 * `{ domain }` for eligibility by email domain; `membership.member` is null where joining would
 * create the member. Unmet requirements are objects, met ones null.
 */
export function encodeDiscoveredOrganizations(entries: readonly DiscoveredOrganization[]) {
  return entries.map((entry) => ({
    member_authenticated: entry.memberAuthenticated,
    organization: encodeOrganization(entry.organization),
    membership: {
      type: entry.membershipType,
      details: entry.eligibleDomain === null ? null : { domain: entry.eligibleDomain },
      member: entry.member === null ? null : encodeMember(entry.member, entry.organization),
    },
    primary_required: entry.primaryRequired === null ? null : { allowed_auth_methods: [...entry.primaryRequired.allowedAuthMethods] },
    mfa_required: entry.mfaRequired === null ? null : encodeMfaRequired(entry.mfaRequired),
  }));
}

function encodeMfaRequired(required: MfaRequirement) {
  const options = required.memberOptions;
  return {
    member_options: options === null ? null : { mfa_phone_number: options.mfaPhoneNumber, totp_registration_id: options.totpRegistrationId },
    secondary_auth_initiated: required.secondaryAuthInitiated,
  };
}
