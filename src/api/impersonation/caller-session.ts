import type { FastifyRequest } from 'fastify';
import { isImpersonated } from '../../domain/sessions/session.js';
import type { SessionsService } from '../../domain/sessions/sessions-service.js';

/** What the impersonation operations need to know of the member session a call names. */
export interface CallerSession {
  readonly isImpersonated: boolean;
  readonly organizationId: string;
  readonly roles: readonly string[];
}

/**
 * The live session named by the call's member-session headers (X-Stytch-Member-Session or
 * X-Stytch-Member-SessionJWT), or undefined when it names none. A session that is unknown or ended,
 * or a bad JWT, is the sessions service's error.
 */
export async function callerSession(request: FastifyRequest, sessions: SessionsService): Promise<CallerSession | undefined> {
  const sessionToken = request.headers['x-stytch-member-session'];
  const sessionJwt = request.headers['x-stytch-member-sessionjwt'];
  if (sessionToken === undefined && sessionJwt === undefined) return undefined;
  const record = await sessions.resolveLive({
    sessionToken: Array.isArray(sessionToken) ? sessionToken[0] : sessionToken,
    sessionJwt: Array.isArray(sessionJwt) ? sessionJwt[0] : sessionJwt,
  });
  return { isImpersonated: isImpersonated(record.session), organizationId: record.session.organizationId, roles: record.session.roles };
}
