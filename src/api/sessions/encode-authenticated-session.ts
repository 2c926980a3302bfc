import type { AuthenticatedSession } from '../../domain/sessions/sessions-service.js';
import { encodeMember } from '../../http/wire/members.js';
import { encodeOrganization } from '../../http/wire/organizations.js';
import { encodeMemberSession } from '../../http/wire/sessions.js';

/** The sessions.authenticate answer, which every operation that issues a session extends. */
export function encodeAuthenticatedSession(result: AuthenticatedSession) {
  return {
    member_session: encodeMemberSession(result.session, result.organization),
    session_token: result.sessionToken,
    session_jwt: result.sessionJwt,
    member: encodeMember(result.member, result.organization),
    organization: encodeOrganization(result.organization),
  };
}
