import type { AuditEvent } from '../../domain/audit/audit-event.js';
import type { Actor } from '../../domain/common/operation-context.js';
import type { AccessGrantView } from '../../domain/impersonation/access-grants-service.js';
import { DEFAULT_DELEGATED_IMPERSONATION } from '../../domain/impersonation/impersonation.js';
import type { ImpersonatedSession, ImpersonationToken } from '../../domain/impersonation/impersonation.js';
import type { PolicyView } from '../../domain/impersonation/impersonation-admin-service.js';
import type { MintedToken } from '../../domain/impersonation/impersonation-service.js';

// How impersonation resources leave the server: the API operations (src/api/impersonation), the console and the CLI share these.

/** A minted impersonation token as the mint answers it, and as `understudy impersonate --json` prints it. */
export function encodeMintedToken(minted: MintedToken) {
  return {
    token_id: minted.tokenId,
    impersonation_token: minted.impersonationToken,
    expires_at: minted.expiresAt,
    impersonation_url: minted.impersonationUrl,
    member_id: minted.member.memberId,
    organization_id: minted.organization.organizationId,
  };
}

export function encodePolicy(view: PolicyView) {
  return {
    organization_id: view.organization.organizationId,
    // The older switch, kept for callers that know only it: any mode but off.
    impersonation_enabled: view.stored?.enabled ?? true,
    access_mode: view.stored?.accessMode ?? 'open',
    delegated_impersonation: view.stored?.delegated ?? DEFAULT_DELEGATED_IMPERSONATION,
    notify_member: view.stored?.notifyMember ?? false,
    notify_admins: view.stored?.notifyAdmins ?? false,
    chosen_by_organization: view.stored?.chosenByOrganization ?? false,
    impersonation_redirect_url: view.stored?.redirectUrl ?? null,
    updated_at: view.stored?.updatedAt ?? null,
    project_impersonation_enabled: view.project.enabled,
    effective_impersonation_enabled: view.effective.enabled,
    disabled_by: view.effective.disabledBy,
    effective_impersonation_redirect_url: view.effective.redirectUrl,
  };
}

export function encodeImpersonatedSession(session: ImpersonatedSession) {
  return {
    member_session_id: session.memberSessionId,
    organization_id: session.organizationId,
    member_id: session.memberId,
    impersonator_id: session.impersonatorId,
    impersonator_email_address: session.impersonatorEmailAddress,
    reason: session.reason,
    started_at: session.startedAt,
    expires_at: session.expiresAt,
  };
}

/** An unredeemed token as the revocation answer lists it: never the token itself. */
export function encodeImpersonationToken(token: ImpersonationToken) {
  return {
    token_id: token.tokenId,
    organization_id: token.organizationId,
    member_id: token.memberId,
    impersonator_id: token.impersonatorId,
    impersonator_email_address: token.impersonatorEmailAddress,
    reason: token.reason,
    created_at: token.createdAt,
    expires_at: token.expiresAt,
    revoked_at: token.revokedAt,
  };
}

export function encodeAuditEvent(event: AuditEvent) {
  return {
    event_id: event.eventId,
    type: event.type,
    occurred_at: event.occurredAt,
    request_id: event.requestId,
    actor: event.actor,
    organization_id: event.organizationId,
    member_id: event.memberId,
    impersonator_id: event.impersonatorId ?? null,
    client_ip: event.client?.ipAddress ?? null,
    user_agent: event.client?.userAgent ?? null,
    details: event.details,
  };
}

/**
 * Who acted, as our extensions answer it: a member session (the organization's own member), the
 * project's backend, a console operator, the CLI or the server itself. Never a secret.
 */
export function encodeActor(actor: Actor) {
  switch (actor.type) {
    case 'member_session':
      return { type: 'member', member_id: actor.memberId, member_session_id: actor.memberSessionId } as const;
    case 'operator':
      return { type: 'operator', operator_id: actor.operatorId, email_address: actor.emailAddress } as const;
    case 'project':
    case 'cli':
    case 'system':
      return { type: actor.type } as const;
  }
}

/** An access grant as the access_grants operations answer it (`status` is `expired` for an open grant past its end). */
export function encodeAccessGrant(grant: AccessGrantView) {
  return {
    grant_id: grant.grantId,
    organization_id: grant.organizationId,
    status: grant.status,
    member_ids: grant.memberIds,
    duration_minutes: grant.durationMinutes,
    reason: grant.reason,
    requested_by: encodeActor(grant.requestedBy),
    requested_at: grant.requestedAt,
    opened_by: grant.openedBy === null ? null : encodeActor(grant.openedBy),
    opened_at: grant.openedAt,
    expires_at: grant.expiresAt,
    closed_by: grant.closedBy === null ? null : encodeActor(grant.closedBy),
    closed_at: grant.closedAt,
  };
}
