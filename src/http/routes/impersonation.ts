import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ImpersonationAdminService } from '../../domain/impersonation/impersonation-admin-service.js';
import type { ImpersonationService } from '../../domain/impersonation/impersonation-service.js';
import { sharedError } from '../../domain/shared/errors.js';
import { isImpersonated } from '../../domain/sessions/session.js';
import type { SessionsService } from '../../domain/sessions/sessions-service.js';
import { ok, projectContext } from '../respond.js';
import {
  auditTrailQuery,
  authenticateImpersonationBody,
  encodeAuditEvent,
  encodeImpersonatedSession,
  encodePolicy,
  impersonationPolicyBody,
  impersonationScopeQuery,
  mintImpersonationBody,
  revokeImpersonationBody,
} from '../wire/impersonation.js';
import { organizationParams } from '../wire/organizations.js';
import { encodeAuthenticatedSession } from './sessions.js';

type Body = Record<string, unknown>;
type Scope = { organization_id?: string; member_id?: string; impersonator_id?: string };

interface Dependencies {
  readonly impersonation: ImpersonationService;
  readonly admin: ImpersonationAdminService;
  readonly sessions: SessionsService;
  readonly projectId: string;
}

/** Impersonation: Stytch's redemption, and beside it our minting, policy, sessions and audit extensions. */
export function registerImpersonationRoutes(app: FastifyInstance, dependencies: Dependencies): void {
  const { impersonation, admin, projectId } = dependencies;

  app.post<{ Body: Body }>('/v1/b2b/impersonation/authenticate', { schema: { body: authenticateImpersonationBody } }, async (request) => {
    const token = (request.body.impersonation_token ?? request.body.token) as string | undefined;
    if (token === undefined) throw sharedError('bad_request', 'impersonation_token is required.');
    const result = await impersonation.redeem(projectContext(request, projectId), token);
    // Every field of api_b2b_impersonation_v1_AuthenticateResponse (reference §A.1).
    return ok(request, {
      member_id: result.member.memberId,
      organization_id: result.organization.organizationId,
      ...encodeAuthenticatedSession(result),
      intermediate_session_token: '',
      member_authenticated: true,
      mfa_required: null,
    });
  });

  app.post<{ Body: Body }>(
    '/v1/b2b/impersonation',
    { schema: { body: mintImpersonationBody }, config: { handlesMemberSessionHeaders: true, rateLimitPerProject: 'mints' } },
    async (request) => {
      const body = request.body;
      const minted = await impersonation.mint(projectContext(request, projectId), {
        organizationReference: body.organization_id as string,
        memberReference: ((body.member_id ?? body.email_address) as string | undefined) ?? '',
        impersonatorId: (body.impersonator_id as string | undefined) ?? '',
        impersonatorEmailAddress: (body.impersonator_email_address as string | undefined) ?? '',
        reason: body.reason as string | undefined,
        expirationMinutes: body.expiration_minutes as number | undefined,
        callerSession: await callerSession(request, dependencies.sessions),
      });
      return ok(request, {
        impersonation_token: minted.impersonationToken,
        expires_at: minted.expiresAt,
        impersonation_url: minted.impersonationUrl,
        member_id: minted.member.memberId,
        organization_id: minted.organization.organizationId,
      });
    },
  );

  // The organization's own admins may read its policy with their member session (X-Stytch-Member-Session).
  app.get<{ Params: { organization_id: string } }>(
    '/v1/b2b/impersonation/policies/:organization_id',
    { schema: { params: organizationParams }, config: { handlesMemberSessionHeaders: true } },
    async (request) => {
      const reader = await callerSession(request, dependencies.sessions);
      return ok(request, encodePolicy(await admin.getPolicy(request.params.organization_id, { reader })));
    },
  );

  app.put<{ Params: { organization_id: string }; Body: Body }>(
    '/v1/b2b/impersonation/policies/:organization_id',
    { schema: { params: organizationParams, body: impersonationPolicyBody } },
    async (request) => {
      const view = await admin.setPolicy(projectContext(request, projectId), request.params.organization_id, {
        enabled: request.body.impersonation_enabled as boolean | undefined,
        redirectUrl: request.body.impersonation_redirect_url as string | null | undefined,
      });
      return ok(request, encodePolicy(view));
    },
  );

  app.get<{ Querystring: Scope }>('/v1/b2b/impersonation/sessions', { schema: { querystring: impersonationScopeQuery } }, async (request) => {
    const sessions = await admin.listActive(scopeOf(request.query));
    return ok(request, { impersonated_sessions: sessions.map(encodeImpersonatedSession) });
  });

  app.post<{ Body: Scope & { member_session_id?: string } }>(
    '/v1/b2b/impersonation/sessions/revoke',
    { schema: { body: revokeImpersonationBody } },
    async (request) => {
      const revoked = await admin.revoke(projectContext(request, projectId), { ...scopeOf(request.body), memberSessionId: request.body.member_session_id });
      return ok(request, { revoked_sessions: revoked.map(encodeImpersonatedSession) });
    },
  );

  app.get<{ Querystring: Scope & { since?: string; until?: string; cursor?: string; limit?: string; format?: string } }>(
    '/v1/b2b/impersonation/audit',
    { schema: { querystring: auditTrailQuery } },
    async (request, reply) => {
      const query = { ...scopeOf(request.query), since: request.query.since, until: request.query.until };
      const wantsNdjson = request.query.format === 'ndjson' || (request.headers.accept ?? '').includes('application/x-ndjson');
      if (!wantsNdjson) {
        const limit = request.query.limit === undefined ? undefined : Number(request.query.limit);
        const page = await admin.auditTrail({ ...query, cursor: request.query.cursor, limit });
        return ok(request, { events: page.events.map(encodeAuditEvent), next_cursor: page.nextCursor });
      }
      // NDJSON export: every matching event, one JSON object a line, read a page at a time.
      const lines: string[] = [];
      let cursor: string | undefined = request.query.cursor;
      do {
        const page = await admin.auditTrail({ ...query, cursor, limit: 1000 });
        for (const event of page.events) lines.push(JSON.stringify(encodeAuditEvent(event)));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      return reply.type('application/x-ndjson').send(lines.length === 0 ? '' : `${lines.join('\n')}\n`);
    },
  );
}

function scopeOf(source: Scope) {
  return { organization: source.organization_id, member: source.member_id, impersonatorId: source.impersonator_id };
}

/** The session named by member-session headers on a mint call, so chains can be refused. */
async function callerSession(
  request: FastifyRequest,
  sessions: SessionsService,
): Promise<{ isImpersonated: boolean; organizationId: string; roles: readonly string[] } | undefined> {
  const sessionToken = request.headers['x-stytch-member-session'];
  const sessionJwt = request.headers['x-stytch-member-sessionjwt'];
  if (sessionToken === undefined && sessionJwt === undefined) return undefined;
  const record = await sessions.resolveLive({
    sessionToken: Array.isArray(sessionToken) ? sessionToken[0] : sessionToken,
    sessionJwt: Array.isArray(sessionJwt) ? sessionJwt[0] : sessionJwt,
  });
  return { isImpersonated: isImpersonated(record.session), organizationId: record.session.organizationId, roles: record.session.roles };
}
