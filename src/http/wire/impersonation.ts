import type { AuditEvent } from '../../domain/audit/audit-event.js';
import type { ImpersonatedSession } from '../../domain/impersonation/impersonation.js';
import type { PolicyView } from '../../domain/impersonation/impersonation-admin-service.js';
import { bool, objectSchema, str } from './schema-types.js';

/** Stytch's request: `impersonation_token`, or the older name `token`. */
export const authenticateImpersonationBody = objectSchema({ impersonation_token: str, token: str });

/** Our minting extension (docs/impersonation.md). */
export const mintImpersonationBody = objectSchema(
  {
    organization_id: str,
    member_id: str,
    email_address: str,
    impersonator_id: str,
    impersonator_email_address: str,
    reason: { type: 'string', maxLength: 8192 },
    expiration_minutes: { type: 'integer' },
  },
  ['organization_id'],
);

export const impersonationPolicyBody = objectSchema({
  impersonation_enabled: bool,
  impersonation_redirect_url: { type: ['string', 'null'], maxLength: 2048 },
});

export const impersonationScopeQuery = objectSchema({ organization_id: str, member_id: str, impersonator_id: str });

export const revokeImpersonationBody = objectSchema({ member_session_id: str, organization_id: str, member_id: str, impersonator_id: str });

export const auditTrailQuery = objectSchema({
  organization_id: str,
  member_id: str,
  impersonator_id: str,
  since: str,
  until: str,
  cursor: str,
  limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
  format: { type: 'string', enum: ['json', 'ndjson'] },
});

export function encodePolicy(view: PolicyView) {
  return {
    organization_id: view.organization.organizationId,
    impersonation_enabled: view.stored?.enabled ?? true,
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
