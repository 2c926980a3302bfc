import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditExports } from '../../domain/impersonation/audit-export.js';
import type { ImpersonationAdminService } from '../../domain/impersonation/impersonation-admin-service.js';
import type { ImpersonationService } from '../../domain/impersonation/impersonation-service.js';
import { isDomainError, type DomainError } from '../../domain/common/domain-error.js';
import { sharedError } from '../../domain/common/errors.js';
import { isImpersonated } from '../../domain/sessions/session.js';
import type { SessionsService } from '../../domain/sessions/sessions-service.js';
import { ndjsonStream } from '../ndjson-stream.js';
import { ok, projectContext } from '../respond.js';
import {
  auditTrailQuery,
  authenticateImpersonationBody,
  encodeAuditEvent,
  encodeImpersonatedSession,
  encodeImpersonationToken,
  encodePolicy,
  impersonationPolicyBody,
  impersonationScopeQuery,
  malformedMintMessage,
  mintImpersonationBody,
  revokeImpersonationBody,
  revokeImpersonationTokensBody,
} from '../wire/impersonation.js';
import { organizationParams } from '../wire/organizations.js';
import { encodeAuthenticatedSession } from '../../api/sessions/encode-authenticated-session.js';

type Body = Record<string, unknown>;
type Scope = { organization_id?: string; member_id?: string; impersonator_id?: string };

interface Dependencies {
  readonly impersonation: ImpersonationService;
  readonly admin: ImpersonationAdminService;
  readonly sessions: SessionsService;
  readonly auditExports: AuditExports;
  readonly projectId: string;
}

/** Impersonation: Stytch's redemption, and beside it our minting, policy, sessions and audit extensions. */
export function registerImpersonationRoutes(app: FastifyInstance, dependencies: Dependencies): void {
  const { impersonation, admin, projectId } = dependencies;

  app.post<{ Body: Body }>('/v1/b2b/impersonation/authenticate', { schema: { body: authenticateImpersonationBody } }, async (request) => {
    const token = (request.body.impersonation_token ?? request.body.token) as string | undefined;
    if (token === undefined) throw sharedError('bad_request', 'impersonation_token is required.');
    const result = await impersonation.redeem(projectContext(request, projectId), token);
    // Every field of api_b2b_impersonation_v1_AuthenticateResponse (contract/stytch-b2b-openapi.yml).
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
    // attachValidation: a body the schema refuses is still handed to the service, which refuses it audited.
    { schema: { body: mintImpersonationBody }, attachValidation: true, config: { handlesMemberSessionHeaders: true, rateLimitPerProject: 'mints' } },
    async (request) => {
      const body: Body = request.body !== null && typeof request.body === 'object' && !Array.isArray(request.body) ? request.body : {};
      const text = (name: string): string | undefined => (typeof body[name] === 'string' ? (body[name] as string) : undefined);
      const failed = request.validationError?.validation;
      const caller = failed === undefined ? await mintCaller(request, dependencies.sessions) : {};
      const minted = await impersonation.mint(projectContext(request, projectId), {
        organizationReference: text('organization_id') ?? '',
        memberReference: text('member_id') ?? text('email_address') ?? '',
        impersonatorId: text('impersonator_id') ?? '',
        impersonatorEmailAddress: text('impersonator_email_address') ?? '',
        reason: text('reason'),
        expirationMinutes: typeof body.expiration_minutes === 'number' ? body.expiration_minutes : undefined,
        callerSession: caller.session,
        callerSessionRefusal: caller.refusal,
        malformed: failed === undefined ? undefined : sharedError('bad_request', malformedMintMessage(failed)),
      });
      return ok(request, {
        token_id: minted.tokenId,
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

  // Our extension: unredeemed tokens revoked before anyone redeems them (one by token_id, or an impersonator's, member's, organization's).
  app.post<{ Body: Scope & { token_id?: string } }>(
    '/v1/b2b/impersonation/tokens/revoke',
    { schema: { body: revokeImpersonationTokensBody } },
    async (request) => {
      const revoked = await admin.revokeTokens(projectContext(request, projectId), { ...scopeOf(request.body), tokenId: request.body.token_id });
      return ok(request, { revoked_tokens: revoked.map(encodeImpersonationToken) });
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
      // NDJSON export: every matching event, one JSON object a line, streamed a page at a time (audit-export.ts).
      // Opening it takes an export slot and reads the first page, so its errors still get the Stytch envelope.
      const exported = await dependencies.auditExports.open({ ...query, cursor: request.query.cursor });
      // Fastify answers HEAD with this handler and drains a stream body unread: stop before reading on.
      if (request.method === 'HEAD') {
        exported.close();
        return reply.type('application/x-ndjson').send();
      }
      const stream = ndjsonStream(exported, encodeAuditEvent, {
        onFailure: (error) => request.log.error({ err: error }, 'audit export failed after it began; response cut off'),
        onStall: () => request.log.warn('audit export cut off: the client stopped reading'),
      });
      return reply.type('application/x-ndjson').send(stream);
    },
  );
}

function scopeOf(source: Scope) {
  return { organization: source.organization_id, member: source.member_id, impersonatorId: source.impersonator_id };
}

/**
 * The session named by member-session headers on a mint call, or why they name none (an unknown or
 * ended session, a bad JWT): the mint refuses that, audited, like every other refusal.
 */
async function mintCaller(request: FastifyRequest, sessions: SessionsService): Promise<{ session?: Awaited<ReturnType<typeof callerSession>>; refusal?: DomainError }> {
  try {
    return { session: await callerSession(request, sessions) };
  } catch (error) {
    if (isDomainError(error)) return { refusal: error };
    throw error;
  }
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
