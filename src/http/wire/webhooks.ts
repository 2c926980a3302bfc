import type { WebhookDelivery, WebhookEndpoint } from '../../domain/webhooks/webhook.js';

// How webhook endpoints and deliveries leave the server: the API operations (src/api/webhooks), the CLI and the console share these.

/** An endpoint as every answer shows it: never its secret (only the create answer has that, beside it). */
export function encodeWebhookEndpoint(endpoint: WebhookEndpoint) {
  return {
    endpoint_id: endpoint.endpointId,
    organization_id: endpoint.organizationId,
    url: endpoint.url,
    description: endpoint.description,
    created_at: endpoint.createdAt,
    disabled_at: endpoint.disabledAt,
  };
}

/** A delivery as the log shows it: its outcome, never the body it carries. */
export function encodeWebhookDelivery(delivery: WebhookDelivery) {
  return {
    delivery_id: delivery.deliveryId,
    endpoint_id: delivery.endpointId,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts,
    next_attempt_at: delivery.status === 'pending' ? delivery.nextAttemptAt : null,
    last_attempt_at: delivery.lastAttemptAt,
    last_status_code: delivery.lastStatusCode,
    last_error: delivery.lastError,
    created_at: delivery.createdAt,
    delivered_at: delivery.deliveredAt,
  };
}
