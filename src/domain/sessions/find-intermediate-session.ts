import { findByOpaqueToken } from '../../crypto/opaque-token.js';
import { sessionError } from './errors.js';
import { isUsable, type IntermediateSession } from './intermediate-session.js';
import type { SessionsStore } from './sessions-store.js';

/**
 * The intermediate session a presented token names, still usable at `now` (unspent, unexpired);
 * `intermediate_session_not_found` otherwise. A plain read: a caller that goes on to spend it locks
 * it inside its transaction.
 */
export async function requireUsableIntermediateSession(
  sessions: Pick<SessionsStore, 'findIntermediateSessionByTokenLookupId'>,
  token: string,
  now: string,
): Promise<IntermediateSession> {
  const found = await findByOpaqueToken(token, (lookupId) => sessions.findIntermediateSessionByTokenLookupId(lookupId), (stored) => stored.tokenDigest);
  if (found === undefined || !isUsable(found.intermediateSession, now)) throw sessionError('intermediate_session_not_found');
  return found.intermediateSession;
}
