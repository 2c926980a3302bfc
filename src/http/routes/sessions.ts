import type { FastifyInstance } from 'fastify';
import type { AuthenticatedSession, SessionsService } from '../../domain/sessions/sessions-service.js';
import { ok, projectContext } from '../respond.js';
import { encodeMember } from '../wire/members.js';
import { encodeOrganization } from '../wire/organizations.js';
import { authenticateSessionBody, encodeMemberSession, getSessionsQuery, revokeSessionBody } from '../wire/sessions.js';

type Body = Record<string, unknown>;

/** The sessions.authenticate answer, also the shape other sign-in methods extend. */
export function encodeAuthenticatedSession(result: AuthenticatedSession) {
  return {
    member_session: encodeMemberSession(result.session, result.organization),
    session_token: result.sessionToken,
    session_jwt: result.sessionJwt,
    member: encodeMember(result.member, result.organization),
    organization: encodeOrganization(result.organization),
  };
}

/** Sessions: decode, call, encode. */
export function registerSessionRoutes(app: FastifyInstance, dependencies: { sessions: SessionsService; projectId: string }): void {
  const { sessions, projectId } = dependencies;

  app.post<{ Body: Body }>('/v1/b2b/sessions/authenticate', { schema: { body: authenticateSessionBody } }, async (request) => {
    const body = request.body;
    const check = body.authorization_check as { organization_id?: unknown; resource_id?: unknown; action?: unknown } | undefined;
    const result = await sessions.authenticate(projectContext(request, projectId), {
      sessionToken: body.session_token as string | undefined,
      sessionJwt: body.session_jwt as string | undefined,
      sessionDurationMinutes: body.session_duration_minutes as number | undefined,
      sessionCustomClaims: body.session_custom_claims as Record<string, unknown> | undefined,
      authorizationCheck: check && {
        organizationId: String(check.organization_id ?? ''),
        resourceId: String(check.resource_id ?? ''),
        action: String(check.action ?? ''),
      },
    });
    return ok(request, {
      ...encodeAuthenticatedSession(result),
      ...(result.verdict && { verdict: { authorized: result.verdict.authorized, granting_roles: result.verdict.grantingRoles } }),
    });
  });

  app.get<{ Querystring: { organization_id: string; member_id: string } }>(
    '/v1/b2b/sessions',
    { schema: { querystring: getSessionsQuery } },
    async (request) => {
      const { organization, sessions: live } = await sessions.list(request.query.organization_id, request.query.member_id);
      return ok(request, { member_sessions: live.map((session) => encodeMemberSession(session, organization)) });
    },
  );

  app.post<{ Body: Body }>('/v1/b2b/sessions/revoke', { schema: { body: revokeSessionBody } }, async (request) => {
    await sessions.revoke(projectContext(request, projectId), {
      memberSessionId: request.body.member_session_id as string | undefined,
      sessionToken: request.body.session_token as string | undefined,
      sessionJwt: request.body.session_jwt as string | undefined,
      memberId: request.body.member_id as string | undefined,
    });
    return ok(request, {});
  });
}
