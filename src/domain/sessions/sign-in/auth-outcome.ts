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

/**
 * The organization's `auth_methods` allow none of the factors proved so far: what Stytch answers as
 * `primary_required`. Only exchanges into an organization (discovery, sessions.exchange) meet it;
 * the other sign-in methods refuse a method the organization does not allow.
 */
export interface PrimaryRequirement {
  readonly allowedAuthMethods: readonly string[];
}

/** A member session: the sign-in met every requirement of the organization. */
export interface SessionIssued extends SessionRecord {
  readonly memberAuthenticated: true;
  /** The new session's token; when a factor was added to a presented session, the token presented ("" for a JWT). */
  readonly sessionToken: string;
  readonly sessionJwt: string;
}

/** An intermediate session: the member proved who they are, and a primary factor the organization allows, or MFA, is still required. */
export interface IntermediateSessionIssued {
  readonly memberAuthenticated: false;
  readonly member: Member;
  readonly organization: Organization;
  /** A new token, or the one presented when this sign-in added its factor to it. */
  readonly intermediateSessionToken: string;
  readonly intermediateSessionExpiresAt: string;
  /** Null when the organization would still want a primary factor first and requires no MFA. */
  readonly mfaRequired: MfaRequirement | null;
  /** Null unless the factors proved are of no method the organization allows. */
  readonly primaryRequired: PrimaryRequirement | null;
}

/** What every sign-in answers (Stytch's auth-outcome fields); src/api/sessions/encode-auth-outcome.ts puts it on the wire. */
export type AuthOutcome = SessionIssued | IntermediateSessionIssued;
