import type { AuditEvent } from '../audit/audit-event.js';

/**
 * Webhooks (docs/webhooks.md): impersonation events and published audit chain heads, signed by the
 * Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`)
 * and sent to the vendor's endpoints (the project's, every organization's events) and to each
 * organization's own endpoints (its events only). Deliveries are durable: fanned out from an outbox
 * written in the event's own transaction, retried with growing waits, and kept as a delivery log.
 */
export interface WebhookEndpoint {
  readonly endpointId: string;
  /** null: the project's endpoint (the vendor's). */
  readonly organizationId: string | null;
  readonly url: string;
  readonly description: string;
  readonly createdAt: string;
  readonly disabledAt: string | null;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDelivery {
  readonly deliveryId: string;
  readonly endpointId: string;
  /** The audit event it carries; also the `webhook-id` header, so receivers can drop duplicates. */
  readonly eventId: string;
  readonly eventType: string;
  readonly organizationId: string | null;
  /** The exact JSON body sent and signed. */
  readonly payload: string;
  readonly status: WebhookDeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt: string | null;
  readonly lastAttemptAt: string | null;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly deliveredAt: string | null;
}

/** An endpoint's owner: an organization's id, or null for the project (the vendor). */
export type WebhookOwner = string | null;

/** At most this many enabled endpoints per owner (an organization, or the project). */
export const MAX_ENDPOINTS_PER_OWNER = 10;

/** Storage port for webhook endpoints, the outbox and deliveries. */
export interface WebhooksStore {
  insertEndpoint(endpoint: WebhookEndpoint, sealedSecret: string): Promise<void>;
  findEndpoint(endpointId: string): Promise<{ endpoint: WebhookEndpoint; sealedSecret: string } | undefined>;
  /** Endpoints of the organization (organizationId) or the project's (null), or every one ('all'), newest first. */
  listEndpoints(filter: { readonly organizationId: WebhookOwner | 'all' }): Promise<WebhookEndpoint[]>;
  /** Enabled endpoints that receive an event of this organization (null: a project-wide event): the project's, and the organization's own. */
  listReceivingEndpoints(organizationId: string | null): Promise<{ endpoint: WebhookEndpoint; sealedSecret: string }[]>;
  /** Enabled endpoints of this owner. */
  countEnabledEndpoints(owner: WebhookOwner): Promise<number>;
  /**
   * Makes other transactions adding endpoints of this owner wait until this one ends, so each counts
   * the others' (PostgreSQL: an advisory transaction lock; a SQLite transaction holds the write lock).
   */
  lockEndpointsOf(owner: WebhookOwner): Promise<void>;
  /** Sets disabled_at if not set; returns the endpoint as stored now, or undefined when unknown. */
  disableEndpoint(endpointId: string, at: string): Promise<WebhookEndpoint | undefined>;
  /** Records that the event must be fanned out to endpoints (written in the event's own transaction). */
  enqueueEvent(eventId: string, at: string): Promise<void>;
  /**
   * Takes up to `limit` outbox entries, oldest first, removing them in one statement (on PostgreSQL
   * rows another transaction is taking are skipped), and returns their audit events; the caller fans
   * them out in the same transaction, so an event is fanned out once or, on a rollback, again later.
   */
  takeOutbox(limit: number): Promise<AuditEvent[]>;
  /** Inserts it unless the endpoint already has a delivery of that event; whether it was inserted. */
  insertDelivery(delivery: WebhookDelivery): Promise<boolean>;
  /**
   * Claims up to `limit` pending deliveries due at `now`, oldest first, at most `perEndpoint` of each
   * endpoint and none of `skipEndpoints` (endpoints this process already has enough attempts under
   * way to), by pushing their next attempt to `leaseUntil` in one conditional UPDATE, so two
   * processes never send the same attempt; returns them as claimed.
   */
  claimDueDeliveries(
    now: string,
    leaseUntil: string,
    limit: number,
    options: { readonly perEndpoint: number; readonly skipEndpoints: readonly string[] },
  ): Promise<WebhookDelivery[]>;
  /**
   * Records an attempt's outcome, if the delivery is still pending with `attempts - 1` attempts (the
   * claim this attempt was made under); whether it was recorded. Writes only the attempt's columns.
   */
  recordAttempt(
    deliveryId: string,
    outcome: {
      readonly status: WebhookDeliveryStatus;
      readonly attempts: number;
      readonly at: string;
      readonly nextAttemptAt: string | null;
      readonly statusCode: number | null;
      readonly error: string | null;
    },
  ): Promise<boolean>;
  /** Newest first; filtered by endpoint, owner (its endpoints' deliveries; null: the project's endpoints) or status. */
  listDeliveries(filter: {
    readonly endpointId?: string | undefined;
    readonly owner?: WebhookOwner | undefined;
    readonly status?: WebhookDeliveryStatus | undefined;
    readonly limit: number;
  }): Promise<WebhookDelivery[]>;
  findDelivery(deliveryId: string): Promise<WebhookDelivery | undefined>;
  /** Deletes up to `limit` delivered or failed deliveries created before `before`; how many it deleted. */
  deleteFinishedDeliveries(before: string, limit: number): Promise<number>;
}
