import type { AuthOutcome, MfaRequirement, PrimaryRequirement } from '../../domain/sessions/sign-in/auth-outcome.js';
import { encodeMember } from '../../http/wire/members.js';
import { encodeOrganization } from '../../http/wire/organizations.js';
import { encodeAuthenticatedSession } from './encode-authenticated-session.js';

/**
 * The auth-outcome fields every sign-in answers with (impersonation.authenticate, and the magic
 * link, OTP, password and discovery authentications): a member session, or an intermediate session
 * with what is still required. Stytch's required fields are never left out: without a session,
 * `member_session` is null and `session_token` and `session_jwt` are "". `primary_required` is
 * answered with every intermediate session (null when only MFA is missing); a member session leaves
 * it out, as impersonation's contract has no such field and the others declare it optional.
 */
export function encodeAuthOutcome(outcome: AuthOutcome) {
  const ids = { member_id: outcome.member.memberId, organization_id: outcome.organization.organizationId };
  if (outcome.memberAuthenticated) {
    return { ...ids, ...encodeAuthenticatedSession(outcome), intermediate_session_token: '', member_authenticated: true, mfa_required: null };
  }
  return {
    ...ids,
    member_session: null,
    session_token: '',
    session_jwt: '',
    member: encodeMember(outcome.member, outcome.organization),
    organization: encodeOrganization(outcome.organization),
    intermediate_session_token: outcome.intermediateSessionToken,
    member_authenticated: false,
    mfa_required: outcome.mfaRequired === null ? null : encodeMfaRequired(outcome.mfaRequired),
    primary_required: outcome.primaryRequired === null ? null : encodePrimaryRequired(outcome.primaryRequired),
  };
}

/**
 * The answer of the exchanges into an organization (discovery.intermediateSessions.exchange,
 * discovery.organizations.create, sessions.exchange): the auth outcome without `organization_id`,
 * which their contract does not list (the organization is in `organization`), and with
 * `primary_required` always present, as they are where it is met.
 */
export function encodeExchangeOutcome(outcome: AuthOutcome) {
  const { organization_id: _organizationId, ...answer } = encodeAuthOutcome(outcome);
  return { primary_required: null, ...answer };
}

function encodeMfaRequired(required: MfaRequirement) {
  const options = required.memberOptions;
  return {
    member_options: options === null ? null : { mfa_phone_number: options.mfaPhoneNumber, totp_registration_id: options.totpRegistrationId },
    secondary_auth_initiated: required.secondaryAuthInitiated,
  };
}

function encodePrimaryRequired(required: PrimaryRequirement) {
  return { allowed_auth_methods: [...required.allowedAuthMethods] };
}
