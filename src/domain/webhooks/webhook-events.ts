import type { AuditEventType } from '../audit/audit-event.js';

/**
 * Which audit events are sent to webhook endpoints: every impersonation event (tokens, sessions,
 * refusals, policies, access grants, calls made by impersonated sessions) and the published heads
 * of the audit chains. Recorded in the outbox in the event's own transaction (audit-recorder.ts).
 */
export function isPublishedEvent(type: AuditEventType): boolean {
  return type.startsWith('impersonation.') || type === 'audit.chain_head_published';
}
