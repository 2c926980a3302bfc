import type { AuditEvent } from '../../domain/audit/audit-event.js';
import type { ImpersonatedSession, ImpersonationToken } from '../../domain/impersonation/impersonation.js';
import type { PolicyView } from '../../domain/impersonation/impersonation-admin-service.js';
import { bool, objectSchema, str } from './schema-types.js';

/** Stytch's request: `impersonation_token`, or the older name `token`. */
export const authenticateImpersonationBody = objectSchema({ impersonation_token: str, token: str });

/**
 * Our minting extension (docs/impersonation.md). Only types and outer bounds are checked here, and
 * a body that fails them is still refused by the service (the route attaches the failure), so every
 * refused mint is audited; lengths, formats and ranges are the service's rules.
 */
export const mintImpersonationBody = objectSchema(
  {
    organization_id: str,
    member_id: str,
    email_address: str,
    impersonator_id: str,
    impersonator_email_address: str,
    reason: { type: 'string', maxLength: 8192 },
    // A number, not only an integer: 2.5 is refused as invalid_expiration by the service, audited.
    expiration_minutes: { type: 'number' },
  },
  ['organization_id'],
);

export const impersonationPolicyBody = objectSchema({
  impersonation_enabled: bool,
  impersonation_redirect_url: { type: ['string', 'null'], maxLength: 2048 },
});

export const impersonationScopeQuery = objectSchema({ organization_id: str, member_id: str, impersonator_id: str });

export const revokeImpersonationBody = objectSchema({ member_session_id: str, organization_id: str, member_id: str, impersonator_id: str });

export const revokeImpersonationTokensBody = objectSchema({ token_id: str, organization_id: str, member_id: str, impersonator_id: str });

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

/** What the edge says of a mint body its schema refused, in the words it uses for every other route. */
export function malformedMintMessage(validation: readonly { instancePath?: string; message?: string; params?: unknown }[]): string {
  const first = validation[0];
  const where = first?.instancePath ? first.instancePath.slice(1).replaceAll('/', '.') : '';
  const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
  const field = missing === undefined ? where : [where, missing].filter((part) => part !== '').join('.');
  return `Invalid body: ${missing ? `${field} is required.` : `${field || 'body'} ${first?.message ?? 'is invalid'}.`}`;
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
