import type { FastifyRequest } from 'fastify';
import { sessionRoleIds } from '../../domain/rbac/session-roles.js';
import { sessionError } from '../../domain/sessions/errors.js';
import { isImpersonated } from '../../domain/sessions/session.js';
import type { SessionsService } from '../../domain/sessions/sessions-service.js';

/** What the impersonation operations need to know of the member session a call names. */
export interface CallerSession {
  readonly isImpersonated: boolean;
  readonly organizationId: string;
  /** The member's roles now (as every member-session call reads them), not those the session was last authenticated with. */
  readonly roles: readonly string[];
}

/**
 * The live session named by the call's member-session headers (X-Stytch-Member-Session or
 * X-Stytch-Member-SessionJWT; both must name the same session when both are sent), or undefined
 * when it names none. A session that is unknown or ended, or a bad JWT, is the sessions service's error.
 */
export async function callerSession(request: FastifyRequest, sessions: SessionsService): Promise<CallerSession | undefined> {
  const sessionToken = first(request.headers['x-stytch-member-session']);
  const sessionJwt = first(request.headers['x-stytch-member-sessionjwt']);
  if (sessionToken === undefined && sessionJwt === undefined) return undefined;
  const byToken = sessionToken === undefined ? undefined : await sessions.resolveLive({ sessionToken });
  const byJwt = sessionJwt === undefined ? undefined : await sessions.resolveLive({ sessionJwt });
  if (byToken !== undefined && byJwt !== undefined && byToken.session.memberSessionId !== byJwt.session.memberSessionId) {
    throw sessionError('session_not_found', 'X-Stytch-Member-Session and X-Stytch-Member-SessionJWT name different sessions.');
  }
  const record = byToken ?? byJwt;
  if (record === undefined) throw sessionError('session_not_found');
  return {
    isImpersonated: isImpersonated(record.session),
    organizationId: record.session.organizationId,
    roles: sessionRoleIds(record.member, record.organization, record.session.authenticationFactors),
  };
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
