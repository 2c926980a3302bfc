import { mayJoinByEmail } from '../email-sign-in/email-member-rules.js';
import { emailDomain, type Member } from '../members/member.js';
import type { MembersStore } from '../members/members-store.js';
import { AUTH_METHODS, type Organization } from '../organizations/organization.js';
import type { OrganizationsStore } from '../organizations/organizations-store.js';
import { sessionError } from '../sessions/errors.js';
import type { IntermediateSession } from '../sessions/intermediate-session.js';
import type { AuthenticationFactor } from '../sessions/session.js';
import type { MfaRequirement, PrimaryRequirement } from '../sessions/sign-in/auth-outcome.js';

/**
 * How the address relates to an organization: a member of it (by the member's status), or free to
 * join it by email domain. (`eligible_to_join_by_oauth_tenant` comes with OAuth.)
 */
export type MembershipType = 'active_member' | 'pending_member' | 'invited_member' | 'eligible_to_join_by_email_domain';

/** What it takes to enter an organization with the factors proved so far. */
export interface EntryRequirements {
  /** The factors satisfy everything: an exchange gives a member session. */
  readonly memberAuthenticated: boolean;
  /** The organization's `auth_methods` accept none of the factors proved: one of its methods must be proved first. */
  readonly primaryRequired: PrimaryRequirement | null;
  /** MFA is required (whether or not a primary factor is required too). */
  readonly mfaRequired: MfaRequirement | null;
}

/** One entry of `discovered_organizations`. */
export interface DiscoveredOrganization extends EntryRequirements {
  readonly organization: Organization;
  readonly membershipType: MembershipType;
  /** The member with the address; null when joining would create one. */
  readonly member: Member | null;
  /** The domain that makes the address eligible (eligible_to_join_by_email_domain only). */
  readonly eligibleDomain: string | null;
}

/** The primary factors an email proof adds, and the `auth_methods` entry that allows each. */
const EMAIL_FACTOR_METHODS: Readonly<Record<string, string>> = { magic_link: 'magic_link', email_otp: 'email_otp' };

/** A password sign-in's factor (`password`, delivered by `knowledge`). */
export function isPasswordFactor(factor: AuthenticationFactor): boolean {
  return factor.type === 'password' && factor.deliveryMethod === 'knowledge';
}

/**
 * The factors of a presented intermediate session that count at the discovery endpoints: every one
 * of a session bound to the address alone (discovery proved them for the address, a password too
 * when passwords are shared across organizations); of one bound to an organization (a sign-in there
 * awaiting MFA), all but its password factors, which prove nothing outside that organization. One
 * that proved nothing else is refused as `intermediate_session_not_found`: it does not exist for
 * discovery.
 */
export function discoveryFactors(intermediate: IntermediateSession): readonly AuthenticationFactor[] {
  const factors = intermediate.authenticationFactors;
  if (intermediate.organizationId === null) return factors;
  const carried = factors.filter((factor) => !isPasswordFactor(factor));
  if (carried.length === 0 && factors.length > 0) {
    throw sessionError(
      'intermediate_session_not_found',
      "This intermediate session comes from a password sign-in to one organization: password factors do not carry to other organizations, so the discovery endpoints cannot use it. Complete the sign-in in that organization.",
    );
  }
  return carried;
}

/**
 * What entering `organization` with `emailAddress` (canonical) as `member` (null: a member created
 * on joining) still needs, given the factors proved. Only a proof of that very address (a magic
 * link or code sent to it, or the address's password when passwords are shared across
 * organizations) counts as a primary factor; it meets the primary requirement unless the
 * organization's `auth_methods` are RESTRICTED to methods that exclude it, from which break-glass
 * members are exempt, as at sign-in. With no such proof, a primary factor is always required. MFA
 * is required when the organization requires it for all or the member enrolled, and is never met
 * by a proof of the address. Both are reported when both apply.
 */
export function entryRequirements(
  organization: Organization,
  member: Member | null,
  emailAddress: string,
  factors: readonly AuthenticationFactor[],
): EntryRequirements {
  const { authMethods, allowedAuthMethods, mfaPolicy } = organization.settings;
  const proved = factors.flatMap((factor) => {
    // Only a password shared across organizations gets here (callers pass the factors that carry: discoveryFactors).
    if (isPasswordFactor(factor)) return ['password'];
    const method = factor.deliveryMethod === 'email' ? EMAIL_FACTOR_METHODS[factor.type] : undefined;
    return method === undefined || factor.detail?.fields.email_address !== emailAddress ? [] : [method];
  });
  const allowed = (method: string): boolean => authMethods !== 'RESTRICTED' || allowedAuthMethods.includes(method);
  const primaryMet = proved.length > 0 && (member?.isBreakglass === true || proved.some(allowed));
  // When nothing proved is a primary factor (an impersonated session), any method the organization allows will do.
  const primaryRequired = primaryMet ? null : { allowedAuthMethods: [...(authMethods === 'RESTRICTED' ? allowedAuthMethods : AUTH_METHODS)] };
  const mfaRequired = mfaPolicy === 'REQUIRED_FOR_ALL' || member?.mfaEnrolled === true ? mfaRequirementOf(member) : null;
  return { memberAuthenticated: primaryRequired === null && mfaRequired === null, primaryRequired, mfaRequired };
}

/** The member's enrolled second factors, as `mfa_required.member_options`; null for none (or no member yet). */
function mfaRequirementOf(member: Member | null): MfaRequirement {
  const enrolled = member !== null && (member.mfaPhoneNumber !== '' || member.totpRegistrationId !== '');
  return {
    memberOptions: enrolled ? { mfaPhoneNumber: member.mfaPhoneNumber, totpRegistrationId: member.totpRegistrationId } : null,
    secondaryAuthInitiated: null,
  };
}

const MEMBERSHIP_OF_STATUS: Readonly<Record<string, MembershipType>> = { active: 'active_member', pending: 'pending_member', invited: 'invited_member' };

type Ports = {
  members: Pick<MembersStore, 'findLiveMembersByEmail' | 'findOrganizationsWithVerifiedMemberOnDomain'>;
  organizations: Pick<OrganizationsStore, 'findOrganizationsByIds' | 'findOrganizationsByAllowedDomain'>;
};

/**
 * The organizations `emailAddress` (canonical) can enter, ordered by name, then id: every one where
 * a live member has the address (active, pending or invited), and, when `includeEligible`, every one
 * that lets the address's domain join by email AND already has a member with a verified address on
 * that domain. The second condition keeps someone who lists a domain they do not own (or a typo) in
 * `email_allowed_domains` from collecting sign-ups by strangers at that domain. Each entry says what
 * the `factors` proved so far leave to do (`entryRequirements`).
 */
export async function discoverOrganizations(
  ports: Ports,
  emailAddress: string,
  factors: readonly AuthenticationFactor[],
  options: { readonly includeEligible: boolean },
): Promise<DiscoveredOrganization[]> {
  const members = (await ports.members.findLiveMembersByEmail(emailAddress)).filter((member) => MEMBERSHIP_OF_STATUS[member.status] !== undefined);
  const organizations = new Map((await ports.organizations.findOrganizationsByIds(members.map((member) => member.organizationId))).map((org) => [org.organizationId, org]));
  const found: DiscoveredOrganization[] = [];
  for (const member of members) {
    const organization = organizations.get(member.organizationId);
    if (organization === undefined) continue;
    const membershipType = MEMBERSHIP_OF_STATUS[member.status] as MembershipType;
    found.push({ organization, membershipType, member, eligibleDomain: null, ...entryRequirements(organization, member, emailAddress, factors) });
  }
  if (options.includeEligible) found.push(...(await eligibleByDomain(ports, emailAddress, factors, new Set(organizations.keys()))));
  return found.sort(byNameThenId);
}

async function eligibleByDomain(ports: Ports, emailAddress: string, factors: readonly AuthenticationFactor[], memberOf: ReadonlySet<string>): Promise<DiscoveredOrganization[]> {
  const domain = emailDomain(emailAddress);
  const open = (await ports.organizations.findOrganizationsByAllowedDomain(domain)).filter(
    (organization) => !memberOf.has(organization.organizationId) && mayJoinByEmail(organization, emailAddress),
  );
  if (open.length === 0) return [];
  const vouched = new Set(await ports.members.findOrganizationsWithVerifiedMemberOnDomain(open.map((organization) => organization.organizationId), domain));
  return open
    .filter((organization) => vouched.has(organization.organizationId))
    .map((organization) => ({
      organization,
      membershipType: 'eligible_to_join_by_email_domain' as const,
      member: null,
      eligibleDomain: domain,
      ...entryRequirements(organization, null, emailAddress, factors),
    }));
}

function byNameThenId(a: DiscoveredOrganization, b: DiscoveredOrganization): number {
  return compareText(a.organization.organizationName.toLowerCase(), b.organization.organizationName.toLowerCase())
    || compareText(a.organization.organizationName, b.organization.organizationName)
    || compareText(a.organization.organizationId, b.organization.organizationId);
}

/** By UTF-16 code units: the same order on every machine, whatever its locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
