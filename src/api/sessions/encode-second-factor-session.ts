import type { SessionIssued } from '../../domain/sessions/sign-in/auth-outcome.js';
import { encodeAuthenticatedSession } from './encode-authenticated-session.js';

/**
 * The answer of a second factor (totps.authenticate, recoveryCodes.recover, otps.sms.authenticate): always a member
 * session, and none of the intermediate-session fields of a primary sign-in.
 */
export function encodeSecondFactorSession(outcome: SessionIssued) {
  return { member_id: outcome.member.memberId, ...encodeAuthenticatedSession(outcome) };
}
