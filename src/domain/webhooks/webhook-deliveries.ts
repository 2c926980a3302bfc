import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Random } from '../../platform/random.js';
import type { Transactional } from '../common/transactional.js';
import type { StorePorts } from '../ports.js';
import { receives, webhookPayload } from './webhook-payload.js';
import type { WebhookSecrets } from './webhook-secrets.js';
import type { WebhookAnswer, WebhookTransport } from './webhook-transport.js';
import type { WebhookDelivery } from './webhook.js';

type Ports = Pick<StorePorts, 'webhooks'>;

/** Waits after each failed attempt: 5 s, 30 s, 2 min, 10 min, 1 h, then 6 h (±10%), until the last attempt. */
export const DEFAULT_WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [5_000, 30_000, 120_000, 600_000, 3_600_000, 21_600_000];
/** How often the outbox and the due deliveries are looked at when nothing wakes the worker sooner. */
export const DEFAULT_WEBHOOK_POLL_MS = 1_000;
/** Events fanned out, and deliveries claimed, per round. */
const BATCH = 50;
/**
 * How long a claimed delivery is this process's: longer than an attempt may take (10 s), so a
 * process that dies mid-attempt leaves the delivery due again a minute later, and no other process
 * sends it meanwhile.
 */
const LEASE_MS = 60_000;

/** An attempt's outcome, as the delivery log shows it. */
export interface DeliveryOutcome {
  readonly delivery: WebhookDelivery;
  readonly status: WebhookDelivery['status'];
  readonly attempts: number;
  readonly statusCode: number | null;
  readonly error: string | null;
}

/**
 * The durable side of webhooks (docs/webhooks.md). The audit store writes each published event's id
 * into the outbox in the event's own transaction; here the outbox is fanned out, in one transaction,
 * into one delivery per enabled endpoint that receives the event, each with the exact body it will
 * be sent; and due deliveries are claimed (a lease on `next_attempt_at`, so two processes never send
 * the same attempt), sent, and their outcome recorded: a 2xx delivers it, anything else waits and
 * tries again until the last attempt, which fails it.
 *
 * `start` polls (and `wake` asks for a round at once); `stop` waits for the round under way.
 */
export class WebhookDeliveries {
  readonly #store: Transactional<Ports>;
  readonly #transport: Pick<WebhookTransport, 'send'>;
  readonly #secrets: WebhookSecrets;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #ids: IdGenerator;
  readonly #maxAttempts: number;
  readonly #retryDelaysMs: readonly number[];
  readonly #pollMs: number;
  readonly #onProblem: (error: unknown) => void;
  readonly #onOutcome: (outcome: DeliveryOutcome) => void;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #again = false;
  #running = false;
  /** A retry due sooner than the poll, asked for while a round was under way. */
  #nextDelay: number | undefined;

  constructor(dependencies: {
    store: Transactional<Ports>;
    transport: Pick<WebhookTransport, 'send'>;
    secrets: WebhookSecrets;
    clock: Clock;
    random: Random;
    ids: IdGenerator;
    maxAttempts: number;
    retryDelaysMs?: readonly number[] | undefined;
    pollMs?: number | undefined;
    /** A round that failed (the database away): logged, and the next round tries again. */
    onProblem: (error: unknown) => void;
    /** Each attempt's outcome (for the log, without the body). */
    onOutcome?: ((outcome: DeliveryOutcome) => void) | undefined;
  }) {
    this.#store = dependencies.store;
    this.#transport = dependencies.transport;
    this.#secrets = dependencies.secrets;
    this.#clock = dependencies.clock;
    this.#random = dependencies.random;
    this.#ids = dependencies.ids;
    this.#maxAttempts = dependencies.maxAttempts;
    this.#retryDelaysMs = dependencies.retryDelaysMs ?? DEFAULT_WEBHOOK_RETRY_DELAYS_MS;
    this.#pollMs = dependencies.pollMs ?? DEFAULT_WEBHOOK_POLL_MS;
    this.#onProblem = dependencies.onProblem;
    this.#onOutcome = dependencies.onOutcome ?? (() => {});
  }

  /** Starts polling (the server does; the CLI never does). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /** Asks for a round as soon as the one under way (if any) ends: something was just recorded. */
  wake(): void {
    if (!this.#running) return;
    if (this.#round !== undefined) this.#again = true;
    else this.#schedule(0);
  }

  /** Stops polling and waits for the round under way; claimed deliveries not yet sent become due again when their lease ends. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#round;
  }

  /** One round: the outbox fanned out, then every due delivery attempted. Resolves when they are recorded. */
  async runOnce(): Promise<void> {
    await this.fanOut();
    while ((await this.deliverDue()) === BATCH) {
      // A full batch: more may be due.
    }
  }

  /** Turns outbox entries into deliveries, in one transaction per batch; returns how many events were taken. */
  async fanOut(): Promise<number> {
    let total = 0;
    for (;;) {
      const taken = await this.#store.transaction(async (tx) => {
        const events = await tx.webhooks.takeOutbox(BATCH);
        const at = toTimestamp(this.#clock.now());
        for (const event of events) {
          const endpoints = await tx.webhooks.listReceivingEndpoints(event.organizationId);
          const payload = webhookPayload(event);
          for (const { endpoint } of endpoints) {
            if (!receives(endpoint.organizationId, event)) continue;
            await tx.webhooks.insertDelivery({
              deliveryId: this.#ids.nextTimeOrdered('webhook-delivery', this.#clock.now()),
              endpointId: endpoint.endpointId,
              eventId: event.eventId,
              eventType: event.type,
              organizationId: event.organizationId,
              payload,
              status: 'pending',
              attempts: 0,
              nextAttemptAt: at,
              lastAttemptAt: null,
              lastStatusCode: null,
              lastError: null,
              createdAt: at,
              deliveredAt: null,
            });
          }
        }
        return events.length;
      });
      total += taken;
      if (taken < BATCH) return total;
    }
  }

  /** Claims the deliveries due now and attempts them together; returns how many were claimed. */
  async deliverDue(): Promise<number> {
    const now = this.#clock.now();
    const claimed = await this.#store.webhooks.claimDueDeliveries(toTimestamp(now), toTimestamp(new Date(now.getTime() + LEASE_MS)), BATCH);
    await Promise.all(claimed.map((delivery) => this.#attempt(delivery)));
    return claimed.length;
  }

  async #attempt(delivery: WebhookDelivery): Promise<void> {
    const attempts = delivery.attempts + 1;
    const found = await this.#store.webhooks.findEndpoint(delivery.endpointId);
    let answer: WebhookAnswer;
    if (found === undefined || found.endpoint.disabledAt !== null) {
      answer = { failure: 'not sent: the endpoint is disabled' };
    } else {
      answer = await this.#transport.send({
        url: found.endpoint.url,
        secret: this.#secrets.open(found.endpoint.endpointId, found.sealedSecret),
        messageId: delivery.eventId,
        timestamp: this.#clock.now(),
        body: delivery.payload,
      });
    }
    const at = this.#clock.now();
    const delivered = 'status' in answer && answer.status >= 200 && answer.status < 300;
    const final = delivered || attempts >= this.#maxAttempts || found?.endpoint.disabledAt != null || found === undefined;
    const status = delivered ? 'delivered' : final ? 'failed' : 'pending';
    const nextAttemptAt = status === 'pending' ? new Date(at.getTime() + this.#delayAfter(attempts)) : null;
    const statusCode = 'status' in answer ? answer.status : null;
    const error = delivered ? null : 'status' in answer ? describeStatus(answer) : answer.failure;
    const recorded = await this.#store.webhooks.recordAttempt(delivery.deliveryId, {
      status,
      attempts,
      at: toTimestamp(at),
      nextAttemptAt: nextAttemptAt === null ? null : toTimestamp(nextAttemptAt),
      statusCode,
      error,
    });
    if (!recorded) return;
    this.#onOutcome({ delivery, status, attempts, statusCode, error });
    // A retry due before the next poll gets a round of its own. Stored times have whole seconds, so
    // it is claimable from the start of its second.
    if (nextAttemptAt !== null) this.#scheduleBy(Date.parse(toTimestamp(nextAttemptAt)) - at.getTime());
  }

  /** The wait after `attempts` failed attempts, ±10% so endpoints that failed together are not retried together. */
  #delayAfter(attempts: number): number {
    const base = this.#retryDelaysMs[Math.min(attempts, this.#retryDelaysMs.length) - 1] ?? DEFAULT_WEBHOOK_POLL_MS;
    const spread = ((this.#random.bytes(1)[0] ?? 128) / 255 - 0.5) * 0.2;
    return Math.max(0, Math.round(base * (1 + spread)));
  }

  #schedule(delayMs: number): void {
    if (!this.#running) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#startRound(), delayMs);
    this.#timer.unref();
  }

  /** Brings the next round forward when `delayMs` is sooner than the poll (a timer is set only between rounds). */
  #scheduleBy(delayMs: number): void {
    if (delayMs >= this.#pollMs) return;
    const wait = Math.max(0, delayMs) + 5;
    if (this.#round !== undefined) {
      this.#nextDelay = Math.min(this.#nextDelay ?? wait, wait);
      return;
    }
    this.#schedule(wait);
  }

  #startRound(): void {
    this.#timer = undefined;
    this.#round = this.runOnce()
      .catch((error: unknown) => this.#onProblem(error))
      .finally(() => {
        this.#round = undefined;
        const next = this.#again ? 0 : Math.min(this.#pollMs, this.#nextDelay ?? this.#pollMs);
        this.#again = false;
        this.#nextDelay = undefined;
        this.#schedule(next);
      });
  }
}

function describeStatus(answer: { readonly status: number; readonly text: string }): string {
  const text = answer.text.replace(/[\r\n]+/g, ' ').trim();
  const clipped = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return clipped === '' ? `HTTP ${answer.status}` : `HTTP ${answer.status}: ${clipped}`;
}
