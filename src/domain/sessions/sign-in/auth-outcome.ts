import type { Member } from '../../members/member.js';
import type { Organization } from '../../organizations/organization.js';
import type { SessionRecord } from '../sessions-store.js';

/** Why the member must still complete MFA: what Stytch answers as `mfa_required`. */
export interface MfaRequirement {
  /** The member's enrolled second factors; null when they have none yet. */
  readonly memberOptions: { readonly mfaPhoneNumber: string; readonly totpRegistrationId: string } | null;
  /** The second factor already started for them (`sms_otp` once an SMS is sent); null for none. */
  readonly secondaryAuthInitiated: string | null;
}

/** A member session: the sign-in met every requirement of the organization. */
export interface SessionIssued extends SessionRecord {
  readonly memberAuthenticated: true;
  /** The new session's token; when a factor was added to a presented session, the token presented ("" for a JWT). */
  readonly sessionToken: string;
  readonly sessionJwt: string;
}

/** An intermediate session: the member proved who they are, and MFA is still required. */
export interface IntermediateSessionIssued {
  readonly memberAuthenticated: false;
  readonly member: Member;
  readonly organization: Organization;
  /** A new token, or the one presented when this sign-in added its factor to it. */
  readonly intermediateSessionToken: string;
  readonly intermediateSessionExpiresAt: string;
  readonly mfaRequired: MfaRequirement;
}

/** What every sign-in answers (Stytch's auth-outcome fields); src/api/sessions/encode-auth-outcome.ts puts it on the wire. */
export type AuthOutcome = SessionIssued | IntermediateSessionIssued;
