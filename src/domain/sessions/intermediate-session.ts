import type { Member } from '../members/member.js';
import type { AuthenticationFactor } from './session.js';

/** Stytch's fixed lifetime of an intermediate session token. */
export const INTERMEDIATE_SESSION_MINUTES = 10;

/**
 * A sign-in that proved something but cannot have a member session yet: the factors so far, behind
 * an `intermediate_session_token`. Either a member proved who they are and must still meet their
 * organization's MFA requirement (organization and member set), or an email address was proved in
 * discovery before any organization was chosen (both null). It never authenticates anything; it is
 * exchanged, once, for a member session when a later step completes the requirement.
 */
export interface IntermediateSession {
  readonly intermediateSessionId: string;
  readonly organizationId: string | null;
  readonly memberId: string | null;
  /** The address proved (canonical): the member's, or the one discovery was started with. */
  readonly emailAddress: string;
  readonly authenticationFactors: readonly AuthenticationFactor[];
  readonly createdAt: string;
  readonly expiresAt: string;
  /** When a member session was issued from it; it is spent from then on. */
  readonly consumedAt: string | null;
}

/** Neither spent nor expired at `now`. */
export function isUsable(session: IntermediateSession, now: string): boolean {
  return session.consumedAt === null && session.expiresAt > now;
}

/**
 * The member's own intermediate session (of their organization), or a discovery one that proved the
 * member's address: what a sign-in of `member` may add its factor to.
 */
export function belongsToMember(intermediate: IntermediateSession, member: Pick<Member, 'memberId' | 'organizationId' | 'emailAddress'>): boolean {
  if (intermediate.memberId === null) return intermediate.organizationId === null && intermediate.emailAddress === member.emailAddress;
  return intermediate.memberId === member.memberId && intermediate.organizationId === member.organizationId;
}
