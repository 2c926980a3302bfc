import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { Member } from '../members/member.js';
import type { Organization } from '../organizations/organization.js';
import { requireUsableIntermediateSession } from '../sessions/find-intermediate-session.js';
import { belongsToMember } from '../sessions/intermediate-session.js';
import { isImpersonated, type AuthenticationFactor } from '../sessions/session.js';
import type { SessionsService } from '../sessions/sessions-service.js';
import type { SessionsStore } from '../sessions/sessions-store.js';
import { factorsInto, isSecondFactor } from '../sessions/sign-in/second-factor.js';
import { sessionError } from '../sessions/errors.js';
import { mfaError } from './errors.js';

/*
 * What every MFA operation shares (TOTP, recovery codes, SMS codes): who may be given a second
 * factor, which methods the organization allows, who may enrol one, and what a successful second
 * factor changes on the member.
 */

export type MfaMethod = 'sms_otp' | 'totp';

/** Stytch: "You may not attach an MFA factor to a member that is not active." */
export function requireActiveMember(member: Member): void {
  if (member.status !== 'active') throw mfaError('action_available_only_for_active_members');
}

/** The organization's `mfa_methods`: RESTRICTED without the method refuses it; break-glass members are exempt. */
export function requireMfaMethodAllowed(organization: Organization, member: Member, method: MfaMethod): void {
  const { mfaMethods, allowedMfaMethods } = organization.settings;
  if (mfaMethods === 'RESTRICTED' && !member.isBreakglass && !allowedMfaMethods.includes(method)) {
    throw mfaError('operation_restricted_by_organization_mfa_methods');
  }
}

/**
 * Whether the member has a second factor they can use in the organization: a verified phone or an
 * active TOTP registration, of a method the organization's `mfa_methods` allow (break-glass
 * members: any). A factor the organization refuses cannot prove anything there, so it must not
 * stand in the way of enrolling one it accepts.
 */
export function hasActiveMfaFactor(member: Member, organization: Organization): boolean {
  const { mfaMethods, allowedMfaMethods } = organization.settings;
  const allows = (method: MfaMethod): boolean => mfaMethods !== 'RESTRICTED' || member.isBreakglass || allowedMfaMethods.includes(method);
  return (member.mfaPhoneNumberVerified && allows('sms_otp')) || (member.totpRegistrationId !== '' && allows('totp'));
}

/** The tokens an enrolment call (totps.create, otps.sms.send) may carry: at most one. */
export interface PresentedProof {
  readonly intermediateSessionToken?: string | undefined;
  readonly sessionToken?: string | undefined;
  readonly sessionJwt?: string | undefined;
}

/**
 * Stytch's guard against enrolling around MFA: a token is optional, but when one is given it must
 * be this member's; and a member who already has an active second factor must give one that holds
 * a second factor (else anyone past the primary step could add a factor of their own and skip the
 * one the member has). Checked before anything is written.
 */
export class EnrolmentGuard {
  readonly #sessionsStore: Pick<SessionsStore, 'findIntermediateSessionByTokenLookupId'>;
  readonly #sessions: Pick<SessionsService, 'resolveLive'>;
  readonly #clock: Clock;

  constructor(dependencies: { sessionsStore: Pick<SessionsStore, 'findIntermediateSessionByTokenLookupId'>; sessions: Pick<SessionsService, 'resolveLive'>; clock: Clock }) {
    this.#sessionsStore = dependencies.sessionsStore;
    this.#sessions = dependencies.sessions;
    this.#clock = dependencies.clock;
  }

  /** The factors of the token presented (undefined for none), after checking it is the member's. */
  async presentedFactors(proof: PresentedProof, member: Member): Promise<readonly AuthenticationFactor[] | undefined> {
    const given = [proof.intermediateSessionToken, proof.sessionToken, proof.sessionJwt].filter((token) => token !== undefined);
    if (given.length > 1) throw sessionError('too_many_session_arguments', 'Provide at most one of intermediate_session_token, session_token and session_jwt.');
    if (proof.intermediateSessionToken !== undefined) {
      const intermediate = await requireUsableIntermediateSession(this.#sessionsStore, proof.intermediateSessionToken, toTimestamp(this.#clock.now()));
      // The member's own, or discovery's for the member's address (as a second factor accepts it), answered as the sign-in pipeline does.
      if (!belongsToMember(intermediate, member)) throw sessionError('invalid_intermediate_session_token_for_organization');
      return factorsInto(intermediate, member.organizationId);
    }
    if (proof.sessionToken !== undefined || proof.sessionJwt !== undefined) {
      const record = await this.#sessions.resolveLive({ sessionToken: proof.sessionToken, sessionJwt: proof.sessionJwt });
      if (record.session.memberId !== member.memberId) throw mfaError('member_session_member_id_mismatch');
      // Support acting as the member may not give the member a factor of its own choosing.
      if (isImpersonated(record.session)) throw sessionError('session_not_mutable_impersonated');
      return record.session.authenticationFactors;
    }
    return undefined;
  }

}

/**
 * Stytch's rule against enrolling around MFA, given the factors of the token presented
 * (EnrolmentGuard.presentedFactors, read before the transaction): a member with a second factor in
 * use gets another only with a token that holds one. Judged again on the member as locked, should
 * they have gained a factor since.
 */
export function requireEnrolmentProof(member: Member, organization: Organization, factors: readonly AuthenticationFactor[] | undefined): void {
  if (hasActiveMfaFactor(member, organization) && !(factors ?? []).some(isSecondFactor)) throw mfaError('mfa_factor_required_to_enroll');
}

/** `set_mfa_enrollment` as Stytch takes it. */
export function checkSetMfaEnrollment(value: string | undefined): 'enroll' | 'unenroll' | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'enroll' || value === 'unenroll') return value;
  throw mfaError('invalid_set_mfa_enrollment');
}

/**
 * The member's MFA settings after a successful second factor of `method` (for applyMfaChanges):
 * `mfa_enrolled` follows `set_mfa_enrollment` (ignored, and set to true, under REQUIRED_FOR_ALL);
 * `default_mfa_method` becomes the method when asked, or when it is the member's first.
 */
export function mfaStateAfterSecondFactor(
  member: Member,
  organization: Organization,
  method: MfaMethod,
  options: { readonly setMfaEnrollment?: 'enroll' | 'unenroll' | undefined; readonly setDefaultMfa?: boolean | undefined },
): { mfaEnrolled: boolean; defaultMfaMethod: string } {
  const mfaEnrolled =
    organization.settings.mfaPolicy === 'REQUIRED_FOR_ALL' ? true : options.setMfaEnrollment === undefined ? member.mfaEnrolled : options.setMfaEnrollment === 'enroll';
  const defaultMfaMethod = options.setDefaultMfa === true || member.defaultMfaMethod === '' ? method : member.defaultMfaMethod;
  return { mfaEnrolled, defaultMfaMethod };
}
