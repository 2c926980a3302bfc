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

/** Storage port for webhook endpoints, the outbox and deliveries. */
export interface WebhooksStore {
  insertEndpoint(endpoint: WebhookEndpoint, sealedSecret: string): Promise<void>;
  findEndpoint(endpointId: string): Promise<{ endpoint: WebhookEndpoint; sealedSecret: string } | undefined>;
  /** Endpoints of the organization (organizationId) or the project's (null), newest first. */
  listEndpoints(filter: { readonly organizationId: string | null | 'all' }): Promise<WebhookEndpoint[]>;
  /** Sets disabled_at if not set; returns the endpoint as stored now, or undefined when unknown. */
  disableEndpoint(endpointId: string, at: string): Promise<WebhookEndpoint | undefined>;
  /** Records that the event must be fanned out to endpoints (written in the event's own transaction). */
  enqueueEvent(eventId: string, at: string): Promise<void>;
  /** Takes up to `limit` outbox entries (removing them) in one statement; the caller fans them out in the same transaction. */
  takeOutbox(limit: number): Promise<string[]>;
  insertDelivery(delivery: WebhookDelivery): Promise<void>;
  /**
   * Claims up to `limit` pending deliveries due at `now` by pushing their next attempt to `leaseUntil`
   * (one conditional UPDATE each, so two processes never send the same attempt), and returns them.
   */
  claimDueDeliveries(now: string, leaseUntil: string, limit: number): Promise<WebhookDelivery[]>;
  /** Records an attempt's outcome. */
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
  ): Promise<void>;
  /** Newest first; filtered by endpoint, organization (its endpoints' deliveries) or status. */
  listDeliveries(filter: {
    readonly endpointId?: string | undefined;
    readonly organizationId?: string | null | undefined;
    readonly status?: WebhookDeliveryStatus | undefined;
    readonly limit: number;
  }): Promise<WebhookDelivery[]>;
  findDelivery(deliveryId: string): Promise<WebhookDelivery | undefined>;
}
