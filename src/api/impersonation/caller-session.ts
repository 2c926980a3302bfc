import type { FastifyRequest } from 'fastify';
import type { OperationContext } from '../../domain/common/operation-context.js';
import { sessionRoleIds } from '../../domain/rbac/session-roles.js';
import { isImpersonated, type AuthenticationFactor } from '../../domain/sessions/session.js';
import type { SessionsService } from '../../domain/sessions/sessions-service.js';
import { memberActor, memberSessionHeaders, resolveCaller } from '../member-session-call.js';

/** What the impersonation operations need to know of the member session a call names. */
export interface CallerSession {
  readonly memberSessionId: string;
  readonly memberId: string;
  readonly emailAddress: string;
  readonly isImpersonated: boolean;
  readonly organizationId: string;
  /** The member's roles now (as every member-session call reads them), not those the session was last authenticated with. */
  readonly roles: readonly string[];
  /** The session's factors: which SSO-granted roles it holds. */
  readonly authenticationFactors: readonly AuthenticationFactor[];
}

/**
 * The live session named by the call's member-session headers, by the rule every member-session
 * call follows (both headers, when both are sent, must name the same session), or undefined when
 * the call sends neither. A session that is unknown or ended, or a bad JWT, is refused with its error.
 */
export async function callerSession(request: FastifyRequest, sessions: SessionsService): Promise<CallerSession | undefined> {
  const headers = memberSessionHeaders(request);
  if (headers === undefined) return undefined;
  const resolved = await resolveCaller(headers, sessions);
  if (resolved.caller === undefined) throw resolved.error;
  const record = resolved.caller;
  return {
    memberSessionId: record.session.memberSessionId,
    memberId: record.member.memberId,
    emailAddress: record.member.emailAddress,
    isImpersonated: isImpersonated(record.session),
    organizationId: record.session.organizationId,
    roles: sessionRoleIds(record.member, record.organization, record.session.authenticationFactors),
    authenticationFactors: record.session.authenticationFactors,
  };
}

/** The call's context with the caller's member session as its actor (with the impersonator, when it is an impersonation), as runAsCaller sets it. */
export function asCaller(context: OperationContext, caller: CallerSession): OperationContext {
  const projectId = context.actor.type === 'project' || context.actor.type === 'member_session' ? context.actor.projectId : '';
  return { ...context, actor: memberActor(caller, projectId) };
}
