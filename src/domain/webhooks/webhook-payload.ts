import type { AuditEvent } from '../audit/audit-event.js';
import type { Actor } from '../common/operation-context.js';

/**
 * The body of every delivery of an event (docs/webhooks.md): the audit event as the API shows it,
 * wrapped the Standard Webhooks way (`type`, `timestamp`, `data`). Built once per event when it is
 * fanned out, stored, and sent byte for byte on every attempt.
 */
export function webhookPayload(event: AuditEvent): string {
  return JSON.stringify({
    type: event.type,
    timestamp: event.occurredAt,
    data: {
      event_id: event.eventId,
      type: event.type,
      occurred_at: event.occurredAt,
      organization_id: event.organizationId,
      member_id: event.memberId,
      impersonator_id: event.impersonatorId,
      actor: wireActor(event.actor),
      details: event.details,
    },
  });
}

/** Who acted, as our extensions show actors: never a session token, only ids. */
export function wireActor(actor: Actor): Record<string, string> {
  switch (actor.type) {
    case 'member_session':
      return { type: 'member', member_id: actor.memberId, member_session_id: actor.memberSessionId };
    case 'operator':
      return { type: 'operator', operator_id: actor.operatorId, email_address: actor.emailAddress };
    case 'project':
      return { type: 'project' };
    case 'cli':
      return { type: 'cli' };
    case 'system':
      return { type: 'system' };
  }
}

/** Which endpoints receive an event: the project's every one; an organization's those of its organization, but never the published chain heads. */
export function receives(endpointOrganizationId: string | null, event: Pick<AuditEvent, 'type' | 'organizationId'>): boolean {
  if (endpointOrganizationId === null) return true;
  if (event.type === 'audit.chain_head_published') return false;
  return event.organizationId === endpointOrganizationId;
}
