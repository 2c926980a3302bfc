import type { AuthOutcome, MfaRequirement } from '../../domain/sessions/sign-in/auth-outcome.js';
import { encodeMember } from '../../http/wire/members.js';
import { encodeOrganization } from '../../http/wire/organizations.js';
import { encodeAuthenticatedSession } from './encode-authenticated-session.js';

/**
 * The auth-outcome fields every sign-in answers with (impersonation.authenticate, and the magic
 * link, OTP, password and discovery authentications): a member session, or an intermediate session
 * with what is still required. Stytch's required fields are never left out: without a session,
 * `member_session` is null and `session_token` and `session_jwt` are "".
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
    mfa_required: encodeMfaRequired(outcome.mfaRequired),
  };
}

function encodeMfaRequired(required: MfaRequirement) {
  const options = required.memberOptions;
  return {
    member_options: options === null ? null : { mfa_phone_number: options.mfaPhoneNumber, totp_registration_id: options.totpRegistrationId },
    secondary_auth_initiated: required.secondaryAuthInitiated,
  };
}
