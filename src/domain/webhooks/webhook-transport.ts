/** One signed POST of a delivery's body to an endpoint. */
export interface WebhookRequest {
  readonly url: string;
  /** The endpoint's `whsec_…` secret, opened for this attempt only. */
  readonly secret: string;
  /** `webhook-id`: the event's id, the same on every attempt, so receivers can drop repeats. */
  readonly messageId: string;
  /** `webhook-timestamp`: when this attempt is made. */
  readonly timestamp: Date;
  readonly body: string;
}

/** What came of an attempt: the endpoint's HTTP status (and the start of its answer), or why there was none. */
export type WebhookAnswer = { readonly status: number; readonly text: string } | { readonly failure: string };

/**
 * The way out of the process for webhooks (src/webhooks): signs the Standard Webhooks way and POSTs,
 * going only to addresses the rules allow (webhook-address.ts), checked on the addresses the host
 * resolves to at that moment and connected to exactly those.
 */
export interface WebhookTransport {
  /** Why the URL's host (resolved now) may not receive webhooks; undefined when it may. */
  checkHost(url: URL): Promise<string | undefined>;
  send(request: WebhookRequest): Promise<WebhookAnswer>;
}

/**
 * The most one attempt may take, from resolving the endpoint's host to the end of its answer. A
 * claimed delivery's lease (webhook-deliveries.ts) is several times longer, so no other process
 * sends the same attempt while this one is still waiting.
 */
export const WEBHOOK_ATTEMPT_BUDGET_MS = 10_000;
