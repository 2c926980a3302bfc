import type { AuditEvent } from './audit-event.js';

/** Which events to read back; every field narrows, absent fields do not. */
export interface AuditEventFilter {
  readonly typePrefix?: string | undefined;
  readonly organizationId?: string | undefined;
  readonly memberId?: string | undefined;
  readonly impersonatorId?: string | undefined;
  /** Events whose impersonator is any of these ids (one person's names); none match an empty list. */
  readonly impersonatorIds?: readonly string[] | undefined;
  /** Inclusive lower bound on `occurredAt` (RFC 3339). */
  readonly since?: string | undefined;
  /** Exclusive upper bound on `occurredAt` (RFC 3339). */
  readonly until?: string | undefined;
}

/** Append-only storage for audit events. */
export interface AuditStore {
  appendEvent(event: AuditEvent): Promise<void>;
  /** Events for an organization (or all when `organizationId` is null), newest first; empty when none. */
  listEvents(filter: { organizationId: string | null; limit: number }): Promise<AuditEvent[]>;
  /**
   * Up to `limit` events matching `filter` in the order they were written (by their time-ordered
   * ids), starting after the event `afterEventId` when given; empty when none.
   */
  searchEvents(filter: AuditEventFilter, page: { limit: number; afterEventId: string | null }): Promise<AuditEvent[]>;
}
