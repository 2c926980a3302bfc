import type { Member } from '../../members/member.js';
import type { Organization } from '../../organizations/organization.js';
import type { AuthenticationFactor } from '../session.js';

/** Factor types that are second factors (TOTP, an SMS code, a recovery code): they never stand for a primary sign-in. */
const SECOND_FACTOR_TYPES = new Set(['totp', 'otp', 'recovery_codes']);

/** The organization auth method (`allowed_auth_methods`) a primary factor was proved by; undefined for a second factor. */
export function primaryMethodOf(factor: AuthenticationFactor): string | undefined {
  if (SECOND_FACTOR_TYPES.has(factor.type)) return undefined;
  if (factor.type === 'sso') return 'sso';
  if (factor.type === 'oauth') return factor.deliveryMethod.replace(/^oauth_/, '') + '_oauth';
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
