import type { Member } from '../../members/member.js';
import type { Organization } from '../../organizations/organization.js';
import { belongsToMember, type IntermediateSession } from '../intermediate-session.js';
import type { AuthenticationFactor } from '../session.js';

/** Factor types that are second factors (TOTP, an SMS code, a recovery code): they never stand for a primary sign-in. */
const SECOND_FACTOR_TYPES = new Set(['totp', 'otp', 'recovery_codes']);

/** The organization auth method (`allowed_auth_methods`) a primary factor was proved by; undefined for a second factor. */
export function primaryMethodOf(factor: AuthenticationFactor): string | undefined {
  if (SECOND_FACTOR_TYPES.has(factor.type)) return undefined;
  if (factor.type === 'sso') return 'sso';
  if (factor.type === 'oauth') return `${factor.deliveryMethod.replace(/^oauth_/, '')}_oauth`;
  return factor.type;
}

export function isSecondFactor(factor: AuthenticationFactor): boolean {
  return SECOND_FACTOR_TYPES.has(factor.type);
}

/**
 * Whether `factors` hold a primary factor the organization lets the member sign in with: what a
 * second factor needs before it may complete a sign-in (an intermediate session from an exchange
 * into an organization that restricts its methods may hold only factors it does not allow).
 * Break-glass members are exempt from the restriction, as Stytch documents.
 */
export function holdsAllowedPrimary(factors: readonly AuthenticationFactor[], member: Member, organization: Organization): boolean {
  const { authMethods, allowedAuthMethods } = organization.settings;
  return factors.some((factor) => {
    const method = primaryMethodOf(factor);
    if (method === undefined) return false;
    return authMethods !== 'RESTRICTED' || member.isBreakglass || allowedAuthMethods.includes(method);
  });
}

/**
 * The factors of an intermediate session that count in `organizationId`: all of them, except that
 * a password proved in another organization stays there. A password is one organization's secret
 * unless the project shares it across organizations, and then the discovery password sign-in, bound
 * to no organization, is how it travels.
 */
export function factorsInto(intermediate: IntermediateSession, organizationId: string): readonly AuthenticationFactor[] {
  if (intermediate.organizationId === null || intermediate.organizationId === organizationId) return intermediate.authenticationFactors;
  return intermediate.authenticationFactors.filter((factor) => factor.type !== 'password');
}

/**
 * Whether a second factor of `member` may complete `intermediate`: it must be the member's own (of
 * this organization), or a discovery one that proved the member's address (Stytch's intermediate
 * sessions are a bag of factors, not bound to an organization, and discovery's exchange hands the
 * same token back when MFA is still required); and its factors must hold a primary factor the
 * organization allows (one from an exchange into an organization that restricts its methods may
 * not). The sign-in pipeline decides by this, and the MFA services check it before judging a code.
 */
export function secondFactorStanding(intermediate: IntermediateSession, member: Member, organization: Organization): 'ok' | 'another_member' | 'primary_unmet' {
  if (!belongsToMember(intermediate, member)) return 'another_member';
  return holdsAllowedPrimary(factorsInto(intermediate, organization.organizationId), member, organization) ? 'ok' : 'primary_unmet';
}
