import type { AuthenticationFactor } from './session.js';

/** Stytch's fixed lifetime of an intermediate session token. */
export const INTERMEDIATE_SESSION_MINUTES = 10;

/**
 * A sign-in that proved who the member is but must still meet the organization's MFA requirement:
 * the factors so far, behind an `intermediate_session_token`. It never authenticates anything; it
 * is exchanged, once, for a member session when a later sign-in completes the requirement.
 */
export interface IntermediateSession {
  readonly intermediateSessionId: string;
  readonly organizationId: string;
  readonly memberId: string;
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
