import type { FastifyRequest } from 'fastify';
import { type DomainError, isDomainError } from '../domain/common/domain-error.js';
import type { Actor, OperationContext } from '../domain/common/operation-context.js';
import { rbacError } from '../domain/rbac/errors.js';
import { maskRestriction } from '../domain/impersonation/permission-mask.js';
import { authorizeMemberCall, type MemberCallRequirement } from '../domain/rbac/member-call.js';
import { sessionRoleIds } from '../domain/rbac/session-roles.js';
import { sessionError } from '../domain/sessions/errors.js';
import type { SessionsService } from '../domain/sessions/sessions-service.js';
import type { MemberSession } from '../domain/sessions/session.js';
import type { SessionRecord } from '../domain/sessions/sessions-store.js';
import type { ApiServices, OperationCall } from './operation.js';

/**
 * What an operation module declares to accept member-session headers: what a call needs from the
 * member it runs as. `resolvedParams` are the path's references (a slug, an external id) as the ids
 * the decision was made on: the operation then runs on those, so a reference that comes to name
 * something else between the check and the write (a slug renamed and taken) cannot redirect it.
 */
export type MemberAuthorization<Call> = (call: Call, services: ApiServices) => Promise<CallRequirement>;

/** A requirement, and the path's references as the ids it was decided on. */
export type CallRequirement = MemberCallRequirement & { readonly resolvedParams?: Readonly<Record<string, string>> };

/**
 * Runs an operation, as the project or, when the request carries `X-Stytch-Member-Session` /
 * `X-Stytch-Member-SessionJWT`, as that member: the session must be live, the call must act on the
 * session's organization, and the member's current roles must grant what the operation's
 * `memberAuthorization` says the call needs (and an impersonated session's permission mask allow
 * it), all before the operation runs, so a refusal writes
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
  const resolved = await resolveCaller(headers, services.sessions);
  // An impersonator's attempt is put on the impersonation trail whatever becomes of it, also when
  // the headers disagree (each impersonated session they name is recorded).
  const recordRefusal = async (errorType: string) => {
    for (const record of resolved.records) {
      const context: OperationContext = { ...call.context, actor: memberActor(sessionOf(record), services.projectId) };
      await services.impersonatedCalls.record(context, { operation: operation.name, outcome: 'refused', errorType });
    }
  };
  if (operation.memberAuthorization === undefined) {
    await recordRefusal('unauthorized_action');
    throw rbacError('unauthorized_action');
  }
  if (resolved.caller === undefined) {
    await recordRefusal(resolved.error.code);
    throw resolved.error;
  }
  const record = resolved.caller;
  const context: OperationContext = { ...call.context, actor: memberActor(sessionOf(record), services.projectId) };
  let asMember = { ...call, context };
  try {
    const requirement = await operation.memberAuthorization(asMember, services);
    const caller = {
      organizationId: record.session.organizationId,
      memberId: record.member.memberId,
      roles: sessionRoleIds(record.member, record.organization, record.session.authenticationFactors),
    };
    // An impersonated session's permission mask takes away what it does not allow (restricted impersonation).
    const mask = await services.sessions.permissionMaskOf(record.session);
    authorizeMemberCall(requirement, caller, await services.rbacPolicy.rolesOf(record.organization), maskRestriction(mask));
    if (requirement.resolvedParams !== undefined) asMember = { ...asMember, params: { ...(call.params as object), ...requirement.resolvedParams } };
  } catch (error) {
    await recordRefusal(errorTypeOf(error));
    throw error;
  }
  let result: Result;
  try {
    result = await run(asMember);
  } catch (error) {
    await services.impersonatedCalls.record(context, { operation: operation.name, outcome: 'failed', errorType: errorTypeOf(error) });
    throw error;
  }
  // Outside the try: the call's changes are committed; a failure to record must not report it as failed.
  await services.impersonatedCalls.record(context, { operation: operation.name, outcome: 'completed' });
  return result;
}

export interface MemberSessionHeaders {
  readonly sessionToken: string | undefined;
  readonly sessionJwt: string | undefined;
}

/** The member-session headers of a request, or undefined when it sends neither. */
export function memberSessionHeaders(request: FastifyRequest): MemberSessionHeaders | undefined {
  const sessionToken = first(request.headers['x-stytch-member-session']);
  const sessionJwt = first(request.headers['x-stytch-member-sessionjwt']);
  return sessionToken === undefined && sessionJwt === undefined ? undefined : { sessionToken, sessionJwt };
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The session the headers name: the caller when every header given names the same live session
 * (the SDK sends both when given both), otherwise the error to answer. `records` are the live
 * sessions found, for the impersonation trail.
 */
export async function resolveCaller(
  headers: MemberSessionHeaders,
  sessions: Pick<SessionsService, 'resolveLive'>,
): Promise<{ readonly records: SessionRecord[]; readonly caller: SessionRecord; readonly error?: undefined } | { readonly records: SessionRecord[]; readonly caller?: undefined; readonly error: DomainError }> {
  const found = await Promise.all(
    [headers.sessionToken === undefined ? undefined : { sessionToken: headers.sessionToken }, headers.sessionJwt === undefined ? undefined : { sessionJwt: headers.sessionJwt }].map(
      async (given) => (given === undefined ? undefined : await liveOrError(sessions, given)),
    ),
  );
  const records = found.flatMap((entry) => (entry !== undefined && 'record' in entry ? [entry.record] : []));
  const failed = found.find((entry) => entry !== undefined && 'error' in entry);
  if (failed !== undefined && 'error' in failed) return { records, error: failed.error };
  const [first, second] = records;
  if (first === undefined) return { records, error: sessionError('session_not_found') };
  if (second !== undefined && second.session.memberSessionId !== first.session.memberSessionId) {
    return { records, error: sessionError('session_not_found', 'X-Stytch-Member-Session and X-Stytch-Member-SessionJWT name different sessions.') };
  }
  return { records: [first], caller: first };
}

/** The live session a header names, or the client error saying why it names none (a bad JWT's own error); other failures propagate. */
async function liveOrError(sessions: Pick<SessionsService, 'resolveLive'>, given: { sessionToken?: string; sessionJwt?: string }): Promise<{ record: SessionRecord } | { error: DomainError }> {
  try {
    return { record: await sessions.resolveLive(given) };
  } catch (error) {
    if (isDomainError(error) && error.kind !== 'unavailable' && error.kind !== 'internal') return { error };
    throw error;
  }
}

/** The session with the member it is read with (the member's id as the member row says it). */
function sessionOf(record: SessionRecord): Pick<MemberSession, 'organizationId' | 'memberId' | 'memberSessionId' | 'authenticationFactors'> {
  return { ...record.session, memberId: record.member.memberId };
}

/** The actor of a call made with this member session: the member, and the impersonator when the session is an impersonation. */
export function memberActor(session: Pick<MemberSession, 'organizationId' | 'memberId' | 'memberSessionId' | 'authenticationFactors'>, projectId: string): Actor {
  const impersonated = session.authenticationFactors.find((factor) => factor.type === 'impersonated')?.detail?.fields;
  return {
    type: 'member_session',
    projectId,
    organizationId: session.organizationId,
    memberId: session.memberId,
    memberSessionId: session.memberSessionId,
    ...(impersonated !== undefined && {
      impersonator: { id: impersonated.impersonator_id ?? '', emailAddress: impersonated.impersonator_email_address ?? '' },
    }),
  };
}

function errorTypeOf(error: unknown): string {
  return isDomainError(error) ? error.code : 'internal_server_error';
}
