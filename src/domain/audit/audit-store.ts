import type { AuditEvent } from './audit-event.js';

/** Append-only storage for audit events. */
export interface AuditStore {
  appendEvent(event: AuditEvent): Promise<void>;
  /** Events for an organization (or all when `organizationId` is null), newest first; empty when none. */
  listEvents(filter: { organizationId: string | null; limit: number }): Promise<AuditEvent[]>;
}
