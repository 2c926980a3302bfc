import type { FastifyRequest } from 'fastify';
import { isDomainError } from '../domain/common/domain-error.js';
import type { Actor, OperationContext } from '../domain/common/operation-context.js';
import { rbacError } from '../domain/rbac/errors.js';
import { authorizeMemberCall, type MemberCallRequirement } from '../domain/rbac/member-call.js';
import { sessionRoleIds } from '../domain/rbac/session-roles.js';
import { sessionError } from '../domain/sessions/errors.js';
import type { SessionRecord } from '../domain/sessions/sessions-store.js';
import type { ApiServices, OperationCall } from './operation.js';

/** What an operation module declares to accept member-session headers: what a call needs from the member it runs as. */
export type MemberAuthorization<Call> = (call: Call, services: ApiServices) => Promise<MemberCallRequirement>;

/**
 * Runs an operation, as the project or, when the request carries `X-Stytch-Member-Session` /
 * `X-Stytch-Member-SessionJWT`, as that member: the session must be live, the call must act on the
 * session's organization, and the member's current roles must grant what the operation's
 * `memberAuthorization` says the call needs, all before the operation runs, so a refusal writes
 * nothing. An operation that declares no `memberAuthorization` refuses the headers
 * (`unauthorized_action`) rather than ignoring them: a caller asking for a member's rights must
 * never get the project's. A call made as an impersonated member is recorded in the impersonation
 * audit trail, whatever its outcome.
 */
export async function runAsCaller<Call extends OperationCall<unknown, unknown, unknown>, Result>(
  call: Call,
  operation: { readonly name: string; readonly memberAuthorization?: MemberAuthorization<Call> | undefined },
  services: ApiServices,
  run: (call: Call) => Promise<Result>,
): Promise<Result> {
  const headers = memberSessionHeaders(call.request);
  if (headers === undefined) return run(call);
  if (operation.memberAuthorization === undefined) {
    // Refused whatever the session; an impersonator's attempt is still put on the impersonation trail.
    const record = await resolveCaller(headers, services).catch(() => undefined);
    if (record !== undefined) {
      const context: OperationContext = { ...call.context, actor: memberActor(record, services.projectId) };
      await services.impersonatedCalls.record(context, { operation: operation.name, outcome: 'refused', errorType: 'unauthorized_action' });
    }
    throw rbacError('unauthorized_action');
  }
  const record = await resolveCaller(headers, services);
  const context: OperationContext = { ...call.context, actor: memberActor(record, services.projectId) };
  const asMember = { ...call, context };
  try {
    const requirement = await operation.memberAuthorization(asMember, services);
    const caller = {
      organizationId: record.session.organizationId,
      memberId: record.member.memberId,
      roles: sessionRoleIds(record.member, record.organization, record.session.authenticationFactors),
    };
    authorizeMemberCall(requirement, caller, await services.rbacPolicy.rolesOf(record.organization));
  } catch (error) {
    await services.impersonatedCalls.record(context, { operation: operation.name, outcome: 'refused', errorType: errorTypeOf(error) });
    throw error;
  }
  try {
    const result = await run(asMember);
    await services.impersonatedCalls.record(context, { operation: operation.name, outcome: 'completed' });
    return result;
  } catch (error) {
    await services.impersonatedCalls.record(context, { operation: operation.name, outcome: 'failed', errorType: errorTypeOf(error) });
    throw error;
  }
}

interface Headers {
  readonly sessionToken: string | undefined;
  readonly sessionJwt: string | undefined;
}

function memberSessionHeaders(request: FastifyRequest): Headers | undefined {
  const sessionToken = first(request.headers['x-stytch-member-session']);
  const sessionJwt = first(request.headers['x-stytch-member-sessionjwt']);
  return sessionToken === undefined && sessionJwt === undefined ? undefined : { sessionToken, sessionJwt };
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The session both headers name (the SDK sends both when given both: they must agree). */
async function resolveCaller(headers: Headers, services: ApiServices): Promise<SessionRecord> {
  const byToken = headers.sessionToken === undefined ? undefined : await services.sessions.resolveLive({ sessionToken: headers.sessionToken });
  const byJwt = headers.sessionJwt === undefined ? undefined : await services.sessions.resolveLive({ sessionJwt: headers.sessionJwt });
  if (byToken !== undefined && byJwt !== undefined && byToken.session.memberSessionId !== byJwt.session.memberSessionId) {
    throw sessionError('session_not_found', 'X-Stytch-Member-Session and X-Stytch-Member-SessionJWT name different sessions.');
  }
  const record = byToken ?? byJwt;
  if (record === undefined) throw sessionError('session_not_found');
  return record;
}

function memberActor(record: SessionRecord, projectId: string): Actor {
  const impersonated = record.session.authenticationFactors.find((factor) => factor.type === 'impersonated')?.detail?.fields;
  return {
    type: 'member_session',
    projectId,
    organizationId: record.session.organizationId,
    memberId: record.member.memberId,
    memberSessionId: record.session.memberSessionId,
    ...(impersonated !== undefined && {
      impersonator: { id: impersonated.impersonator_id ?? '', emailAddress: impersonated.impersonator_email_address ?? '' },
    }),
  };
}

function errorTypeOf(error: unknown): string {
  return isDomainError(error) ? error.code : 'internal_server_error';
}
