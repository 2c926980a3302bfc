import type { AuditEvent } from './audit-event.js';

/** Which events to read back; every field narrows, absent fields do not. */
export interface AuditEventFilter {
  readonly typePrefix?: string | undefined;
  readonly organizationId?: string | undefined;
  readonly memberId?: string | undefined;
  /**
   * Events of one impersonator: whose impersonator id is one of `ids` (one person's names), or any id
   * recorded on an impersonation token together with one of `emailAddresses`. The database finds
   * those ids in the same query, however many there are. None match when both lists are empty.
   */
  readonly impersonator?: { readonly ids: readonly string[]; readonly emailAddresses: readonly string[] } | undefined;
  /** Inclusive lower bound on `occurredAt` (RFC 3339). */
  readonly since?: string | undefined;
  /** Exclusive upper bound on `occurredAt` (RFC 3339). */
  readonly until?: string | undefined;
}

/** Append-only storage for audit events. */
export interface AuditStore {
  /**
   * Appends the event. `chained`: it joins its chain (the organization's, or the project's when it has
   * none), carrying the previous record's hash (audit-chain.ts). `published`: it is written to the
   * webhook outbox too, in the same transaction. Called outside a transaction, it runs in one of its own.
   */
  appendEvent(event: AuditEvent, options?: { readonly chained?: boolean; readonly published?: boolean }): Promise<void>;
  /** Events for an organization (or all when `organizationId` is null), newest first; empty when none. */
  listEvents(filter: { organizationId: string | null; limit: number }): Promise<AuditEvent[]>;
  /**
   * Up to `limit` events matching `filter` in the order they were written (by their time-ordered
   * ids), starting after the event `afterEventId` when given; empty when none.
   */
  searchEvents(filter: AuditEventFilter, page: { limit: number; afterEventId: string | null }): Promise<AuditEvent[]>;
}
